"""The self-checks' caches (issue 15): keyed so that they serve only what they were computed for.

They live in the student's kernel and only speed up the self-check there; the grader judges in its
own process from fresh requests, so whatever a student does to them reaches no grade. What is
tested here is that a cache answers only for its own key: the public request by identity, a proof
by the exact data, a shape by expression and sizes, a product by network, steps and reference.
"""
import copy
import json
import math
import sys

import numpy as np
import sympy as sp

from course_lib import answers, graded_run, mlp, proofs, tasks
from course_lib.tasks import c
from course_lib.tasks.c import bonus, c2, c3, common


def test_public_forwards_are_reused_and_only_for_the_public_request():
    request = tasks.get("c2").public_request()
    assert request is tasks.get("c2").public_request()
    assert c2.forwards(request) is c2.forwards(request)
    equal = json.loads(json.dumps(request))           # the same networks, as a grader's request would come
    fresh = c2.forwards(equal)
    assert fresh is not c2.forwards(request) and fresh[0] is not c2.forwards(request)[0]
    other = copy.deepcopy(request)
    other["networks"] = other["networks"][1:]
    assert len(c2.forwards(other)) == 1


def test_bonus_forwards_are_reused_and_only_for_the_public_request():
    request = tasks.get("c_bonus").public_request()
    assert bonus.bonus_forwards(request) is bonus.bonus_forwards(request)
    fresh = bonus.bonus_forwards(json.loads(json.dumps(request)))
    assert fresh["entries"][1] is not bonus.bonus_forwards(request)["entries"][1]
    assert [f.sizes for f in fresh["gradients"]] == [f.sizes for f in bonus.bonus_forwards(request)["gradients"]]


def test_numeric_entries_from_one_row_equal_the_full_forward_pass():
    fwd = mlp.Forward(mlp.random_network((6, 4, 5, 3), np.random.default_rng(3)))
    triples = bonus.all_triples(fwd)
    full = np.array([gradcheck_entry(fwd, *t) for t in triples])
    assert np.allclose(bonus.numeric_entries(fwd, triples), full, rtol=1e-7, atol=1e-10)


def gradcheck_entry(fwd, i, k, l):
    h = 1e-6
    return (bonus.with_weight(fwd, k, l, fwd["W1"][k, l] + h)["o1"][i]
            - bonus.with_weight(fwd, k, l, fwd["W1"][k, l] - h)["o1"][i]) / (2 * h)


def test_reference_product_is_keyed_by_network_steps_and_reference():
    fwd = c2.forwards(tasks.get("c2").public_request())[1]
    steps = fwd.path("z1", "x")
    numeric = c2.reference_product(fwd, steps, [c2.numeric_step(fwd, s) for s in steps], c2.numeric_step)
    assert numeric is c2.reference_product(fwd, steps, [], c2.numeric_step)      # computed once
    assert not numeric.flags.writeable

    def doubled(f, s):
        return 2 * c2.numeric_step(f, s)
    other = c2.reference_product(fwd, steps, [doubled(fwd, s) for s in steps], doubled)
    assert np.allclose(other, 4 * numeric)
    other_net = c2.forwards(tasks.get("c2").public_request())[0]
    assert c2.reference_product(other_net, other_net.path("z1", "x"), [c2.numeric_step(other_net, s) for s in
                                                                       other_net.path("z1", "x")],
                               c2.numeric_step).shape != numeric.shape


def test_dims_at_cache_tells_sizes_and_expressions_apart():
    n0, n1 = common.SIZE_SYMBOLS["n0"], common.SIZE_SYMBOLS["n1"]
    assert common.dims_at([n1, n0], (784, 256, 256, 10)) == (256, 784)
    assert common.dims_at([n1, n0], (9, 7, 5, 4)) == (7, 9)
    assert common.dims_at([n1 / 2, n0], (9, 7, 5, 4)) == (3.5, 9)
    assert common.dims_at([sp.Integer(1) / (n1 - 7)], (9, 7, 5, 4))[0] != common.dims_at([n1], (9, 7, 5, 4))[0]


def encoded_c3(steps_tanh):
    e, u, S, delta, o_i, o_j, s_i, s_j = sp.exp, c.u, c.S, c.delta, c.o_i, c.o_j, c.s_i, c.s_j
    answer = {"tanh": steps_tanh, "softmax": [(delta * e(o_i) * S - e(o_i) * e(o_j)) / S ** 2, s_i * (delta - s_j)]}
    return answers.encode(tasks.get("c3"), answer, {})


def test_a_proof_is_remembered_for_exactly_its_data():
    e, u = sp.exp, c.u
    right = [((e(u) + e(-u)) ** 2 - (e(u) - e(-u)) ** 2) / (e(u) + e(-u)) ** 2, 1 - sp.tanh(u) ** 2]
    proofs.forget()
    data = encoded_c3(right)
    first = tasks.get("c3").self_check(data, {}).text()
    assert "confirmed symbolically" in first
    assert all(proofs.known(proofs.key("c3", kind, data[kind])) for kind in ("tanh", "softmax"))
    assert tasks.get("c3").self_check(encoded_c3(right), {}).text() == first
    # the same steps with one changed: not served from the cache, and judged afresh (the step is wrong)
    wrong = [right[0], 1 + sp.tanh(u) ** 2]
    assert "confirmed symbolically" not in tasks.get("c3").self_check(encoded_c3(wrong), {}).text().split("tanh")[1]
    assert not proofs.known(proofs.key("c3", "tanh", encoded_c3(wrong)["tanh"]))


def test_a_failed_proof_is_not_remembered(monkeypatch):
    e, u = sp.exp, c.u
    right = [((e(u) + e(-u)) ** 2 - (e(u) - e(-u)) ** 2) / (e(u) + e(-u)) ** 2, 1 - sp.tanh(u) ** 2]
    data = encoded_c3(right)
    proofs.forget()
    monkeypatch.setattr(c3, "prove", lambda *a: False)   # e.g. the time budget ran out
    assert not c3._confirmed("tanh", data["tanh"], c3.DERIVATIONS["tanh"], 1.0)
    assert not proofs.known(proofs.key("c3", "tanh", data["tanh"])) and not proofs.take_new()


def test_graded_run_shows_figures_as_a_line_saying_why(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure
    from matplotlib_inline.config import InlineBackend

    monkeypatch.setattr(Figure, "_repr_mimebundle_", None, raising=False)   # undone after the test
    shell = InteractiveShell.instance()
    try:
        graded_run.skip_figures(shell)
        fig, _ = plt.subplots()
        data, _ = shell.display_formatter.format(fig)
        plt.close(fig)
        assert data == {"text/plain": graded_run.NOT_RENDERED}
    finally:
        InlineBackend.clear_instance()
        InteractiveShell.clear_instance()


def test_graded_run_only_when_nbgrader_autogrades(monkeypatch):
    monkeypatch.delenv(graded_run.EXECUTION_ENV, raising=False)
    assert not graded_run.graded()
    monkeypatch.setenv(graded_run.EXECUTION_ENV, "validate")
    assert not graded_run.graded()
    monkeypatch.setenv(graded_run.EXECUTION_ENV, graded_run.GRADED)
    assert graded_run.graded()


def test_drawings_are_not_laid_out_in_a_graded_run(monkeypatch):
    from matplotlib.figure import Figure

    from course_lib.draw import draw, draw_gradient_field
    from course_lib.graph import Graph

    G = Graph()
    x1, x2 = G.input("x1"), G.input("x2")
    G.op("f", "+", x1, x2, d=[1, 1])
    monkeypatch.setenv(graded_run.EXECUTION_ENV, graded_run.GRADED)
    for fig in (draw(G), draw_gradient_field(G)):
        assert isinstance(fig, Figure) and not fig.axes
    monkeypatch.delenv(graded_run.EXECUTION_ENV)
    assert draw(G).axes


def test_the_request_file_is_read_once_and_again_when_it_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = tasks.get("a1")
    assert answers.request_for(task) == task.public_request()  # no file: the public request
    path = tmp_path / answers.REQUEST_FILE
    path.write_text(json.dumps({"a1": {"cases": [[1, 1]]}}))
    loads = []
    monkeypatch.setattr(answers.json, "load", lambda f: loads.append(1) or json.loads(f.read()))
    assert answers.request_for(task) == answers.request_for(task) == {"cases": [[1, 1]]}
    assert len(loads) == 1
    path.write_text(json.dumps({"a1": {"cases": [[2, 1], [3, 2]]}}))
    assert answers.request_for(task) == {"cases": [[2, 1], [3, 2]]}
    path.write_text("[]")
    assert answers.request_for(task) == task.public_request()
    path.unlink()
    assert answers.request_for(task) == task.public_request()


def test_a_graded_self_check_limits_no_threads(monkeypatch):
    import course_lib.check

    monkeypatch.setenv(graded_run.EXECUTION_ENV, graded_run.GRADED)
    monkeypatch.setattr(sys.modules["course_lib.check"], "blas", None)  # called, it would raise
    assert [f.status for f in course_lib.check("a1", ...).findings] == ["skipped"]


def test_a_drawn_network_is_kept_by_its_recipe_and_handed_out_as_a_copy():
    recipe = mlp.drawn((5, 4, 3, 2), np.random.default_rng(0))
    net = mlp.random_network((5, 4, 3, 2), np.random.default_rng(0))
    back = mlp.network_from(recipe)
    assert all(np.array_equal(back[k], net[k]) for k in ("x", *mlp.PARAMETERS)) and back["y"] == net["y"]
    back["W1"][0, 0] = 99.0  # a copy: what a judge does with it stays there
    assert mlp.network_from(recipe)["W1"][0, 0] == net["W1"][0, 0]
    other = json.loads(json.dumps(recipe))  # another state is another network, never the kept one
    other["state"]["state"]["state"] += 1
    assert not np.array_equal(mlp.network_from(other)["W1"], net["W1"])


def test_dims_that_are_one_size_or_a_number_are_read_as_subs_reads_them():
    for d in (n1 := common.n1, common.n3, sp.Integer(3), sp.Rational(7, 2), sp.Integer(2) ** 70, sp.nan, sp.zoo, n1 * 2):
        slow = d.subs(dict(zip(common.SIZE_ORDER, (9, 7, 5, 4))))
        slow = math.nan if slow.has(sp.nan, sp.zoo) else float(slow)
        got = common.dim_at(d, (9, 7, 5, 4))
        assert (math.isnan(got) and math.isnan(slow)) or (got == slow and type(got) is (int if slow.is_integer() else float))


def round_trip(data):
    """What answers.encode did before json_clean: the value, or the exception's type and text."""
    try:
        return json.loads(json.dumps(data, allow_nan=False))
    except Exception as e:
        return type(e), str(e)


def test_json_clean_gives_what_the_json_round_trip_gives():
    cyclic = []
    cyclic.append(cyclic)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    values = [None, True, 0, -1, 2**63, 2**64, 2**65, -2**70, 10**5000, 1.5, -0.0, 1e308, math.nan, math.inf, -math.inf,
              "", "é\ud800\n", [], (), [1, (2, [3.0, "x"])], {"a": 1, "b": [None, {"c": False}]},
              {1: "int key"}, {None: 0, True: 1, 2.5: 2}, {"a": 1, 1: "a"}, {"k": math.nan}, {"k": np.float64(2.0)},
              {"k": np.int64(3)}, [np.float32(0.1)], {"k": {1, 2}}, {"k": object()}, cyclic, deep,
              common.Unusable("why"), common.Unusable("blank", blank=True), {"part": common.Unusable("x")},
              type("S", (str,), {})("str subclass"), type("D", (dict,), {})(a=1), True.__class__(1)]
    for value in values:
        try:
            got = answers.json_clean(value)
        except Exception as e:
            got = type(e), str(e)
        want = round_trip(value)
        assert got == want and type(got) is type(want), value
        if not isinstance(want, tuple):
            assert json.dumps(got) == json.dumps(want)  # the same types all the way down (1 is not 1.0, not True)


def test_json_clean_keeps_strings_and_copies_containers():
    text = "A" * 1000
    data = {"npy": text, "cases": [{"x": text}], "shape": (2, 3)}
    clean = answers.json_clean(data)
    assert clean["npy"] is text and clean["cases"][0]["x"] is text and clean["shape"] == [2, 3]
    assert clean["cases"] is not data["cases"] and type(clean) is dict


def test_a_self_check_reads_back_only_the_arrays_it_encoded(monkeypatch):
    from course_lib import arrays

    a = np.arange(12.0).reshape(3, 4)
    decoded = []
    monkeypatch.setattr(arrays, "_decode", lambda text: decoded.append(text) or arrays.binascii.a2b_base64(text))
    with arrays.read_back():
        data = arrays.array_to_data(a)
        back = arrays.array_from_data(data)
        assert decoded == [] and np.array_equal(back, a) and back.flags.writeable and back is not a
        text = data["npy"]
        equal = {"npy": text[:8] + text[8:]}  # the same text, another object: decoded
        assert equal["npy"] is not text and np.array_equal(arrays.array_from_data(equal), a) and len(decoded) == 1
    assert np.array_equal(arrays.array_from_data(data), a) and len(decoded) == 2  # after it: decoded as always
    ints = arrays.array_to_data(np.arange(3))  # made outside: never kept
    with arrays.read_back():
        assert arrays.array_from_data(ints).dtype == np.float64 and len(decoded) == 3


def test_a_self_check_limits_blas_threads_and_finds_the_libraries_once(monkeypatch):
    module = sys.modules["course_lib.check"]
    limits = []
    controller = module.blas()
    real = controller.limit
    monkeypatch.setattr(controller, "limit", lambda **kw: limits.append(kw) or real(**kw))
    assert module.blas() is controller
    module.check("a1", ...)
    assert limits == [{"limits": 1}]
