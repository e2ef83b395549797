r"""Task (c): backpropagation through the 784-256-256-10 MLP of course_lib.mlp, and the bonus. One module per part:

c1.py     The loss as a graph over x, z1, z2, z3, y, L (W, b and o nodes optional), written
          with task (b)'s ``Graph``; every edge u → v carries its Jacobian ``J("v", "u")``.
c2.py     ∇_x L and ∇_{b1} L as chains of Jacobians: a layout ("row": the sheet's, gradients
          are rows and the factor nearest L stands on the left; "column": every factor
          transposed, the order reversed), the factors — each with its shape in the layer
          sizes n0..n3 and a NumPy function of forward quantities — and the two chains.
c3.py     tanh' and ∂s_i/∂o_j derived from the definitions, each as a list of SymPy steps.
bonus.py  J_{o1}(W1): its shape, its size in bytes, its entries as a rule entry(i, k, l, x),
          and ∇_{W1} L as a function of forward quantities.
common.py What c2 and the bonus share: the layer sizes, arrays and shapes from students'
          functions, comparing arrays.

The self-checks derive what they compare with from the problem statement alone: the
forward pass with central differences (course_lib.mlp, course_lib.gradcheck) and SymPy's
derivatives of the definitions. A student's function runs in this kernel only inside
``encode``, on the networks of the request, bounded in time and in memory.

Students import their symbols from here: ``from course_lib.tasks.c import J, n0, n1, n2, n3, u, o_i, o_j,
S, delta, s_i, s_j``.
"""
from .common import n0, n1, n2, n3
from .c1 import C1, J
from .c2 import C2
from .c3 import C3, S, delta, o_i, o_j, s_i, s_j, u
from .bonus import BonusReference, CBonus, bonus_request

__all__ = ["C1", "J",
           "C2", "n0", "n1", "n2", "n3",
           "C3", "u", "o_i", "o_j", "S", "delta", "s_i", "s_j",
           "CBonus", "BonusReference", "bonus_request"]
