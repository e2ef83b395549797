"""What can go wrong with what the platform hands over, as one message a TA can act on."""


class PlatformError(Exception):
    """A file from the course platform cannot be used; the message says which and why."""


class RosterError(PlatformError):
    pass


class ArchiveError(PlatformError):
    pass
