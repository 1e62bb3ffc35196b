"""``funcgrad.return_types``: the named tuples that ops with several results return, as
``torch.return_types`` has them: ``max(x, dim)``'s ``(values, indices)``, ``linalg.svd``'s
``(U, S, Vh)`` and the rest, each printed as torch prints its own (one field a line).

>>> import funcgrad
>>> funcgrad.max(funcgrad.tensor([[1.0, 3.0], [4.0, 2.0]]), 1)
funcgrad.return_types.max(
values=tensor([3., 4.]),
indices=tensor([1, 0]))
"""

from __future__ import annotations

import collections


def _repr(self) -> str:
    fields = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
    return f"{__name__}.{type(self).__name__}(\n{fields})"


def _structseq(name: str, fields: str) -> type:
    """A named tuple type ``name`` of ``fields`` (space-separated), found here by its name, so
    that its values pickle."""
    base = collections.namedtuple(name, fields)
    return type(name, (base,), {"__slots__": (), "__repr__": _repr, "__str__": _repr,
                                "__module__": __name__, "__doc__": base.__doc__})


aminmax = _structseq("aminmax", "min max")
cummax = _structseq("cummax", "values indices")
cummin = _structseq("cummin", "values indices")
frexp = _structseq("frexp", "mantissa exponent")
geqrf = _structseq("geqrf", "a tau")
histogram = _structseq("histogram", "hist bin_edges")
histogramdd = _structseq("histogramdd", "hist bin_edges")
kthvalue = _structseq("kthvalue", "values indices")
linalg_cholesky_ex = _structseq("linalg_cholesky_ex", "L info")
linalg_eig = _structseq("linalg_eig", "eigenvalues eigenvectors")
linalg_eigh = _structseq("linalg_eigh", "eigenvalues eigenvectors")
linalg_inv_ex = _structseq("linalg_inv_ex", "inverse info")
linalg_ldl_factor = _structseq("linalg_ldl_factor", "LD pivots")
linalg_ldl_factor_ex = _structseq("linalg_ldl_factor_ex", "LD pivots info")
linalg_lstsq = _structseq("linalg_lstsq", "solution residuals rank singular_values")
linalg_lu = _structseq("linalg_lu", "P L U")
linalg_lu_factor = _structseq("linalg_lu_factor", "LU pivots")
linalg_lu_factor_ex = _structseq("linalg_lu_factor_ex", "LU pivots info")
linalg_qr = _structseq("linalg_qr", "Q R")
linalg_slogdet = _structseq("linalg_slogdet", "sign logabsdet")
linalg_solve_ex = _structseq("linalg_solve_ex", "result info")
linalg_svd = _structseq("linalg_svd", "U S Vh")
lu_unpack = _structseq("lu_unpack", "P L U")
max = _structseq("max", "values indices")
median = _structseq("median", "values indices")
min = _structseq("min", "values indices")
mode = _structseq("mode", "values indices")
nanmedian = _structseq("nanmedian", "values indices")
qr = _structseq("qr", "Q R")
slogdet = _structseq("slogdet", "sign logabsdet")
sort = _structseq("sort", "values indices")
triangular_solve = _structseq("triangular_solve", "solution cloned_coefficient")
svd = _structseq("svd", "U S V")
topk = _structseq("topk", "values indices")
