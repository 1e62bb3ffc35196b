"""Errors and warnings as torch raises them, and the contract that bad input loses nothing.

Where torch has the error, the same code runs on both libraries and funcgrad's exception must
have torch's type and, word for word, torch's message (with ``torch`` read as ``funcgrad`` and
torch's ``(Triggered internally at ...)`` suffix dropped). Where torch has none (64-bit without
``jax_enable_x64``), the message must state the rule and the fix.

Then the contract: an op or a backward that raises leaves every ``.grad``, value, version and
graph as it was, so the corrected call afterwards gives exactly the result it would have.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import jax
import numpy as np
import pytest

import funcgrad


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def message(text: str) -> str:
    text = re.sub(r" \(Triggered internally at .*\)$", "", str(text), flags=re.S)
    return text.replace("torch.", "funcgrad.")


def raised(lib, scenario) -> BaseException:
    with pytest.raises(Exception) as info:
        scenario(lib)
    return info.value


def assert_raises_as_torch(torch, scenario) -> str:
    ours, theirs = raised(funcgrad, scenario), raised(torch, scenario)
    assert type(ours) is type(theirs)
    assert message(ours) == message(theirs)
    return str(ours)


def assert_warns_as_torch(torch, scenario) -> None:
    def caught(lib):
        with pytest.warns(UserWarning) as record:
            scenario(lib)
        assert len(record) == 1
        return record[0]

    ours, theirs = caught(funcgrad), caught(torch)
    assert ours.category is theirs.category
    assert message(ours.message) == message(theirs.message)


# ----- the errors of the issue -----------------------------------------------------------------
def no_grad_backward(lib):
    lib.tensor(1.0).backward()


def no_grad_second_root(lib):
    x = lib.tensor(1.0, requires_grad=True)
    lib.autograd.backward([x * 2, lib.tensor(1.0) * 2])


def freed_graph(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    y.backward()


def freed_graph_autograd_grad(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = x.sin()
    lib.autograd.grad(y, x)
    lib.autograd.grad(y, x)


def non_scalar(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward()


def int_requires_grad(lib):
    lib.tensor([1, 2], requires_grad=True)


def int_factory_requires_grad(lib):
    lib.zeros(2, dtype=lib.int32, requires_grad=True)


def arange_requires_grad(lib):
    lib.arange(3, requires_grad=True)


def bool_requires_grad(lib):
    lib.tensor([True], requires_grad=True)


def int_requires_grad_(lib):
    lib.tensor([1, 2]).requires_grad_()


def int_requires_grad_setter(lib):
    lib.tensor([1, 2]).requires_grad = True


def leaf_add_(lib):
    lib.tensor([1.0], requires_grad=True).add_(1)


def leaf_iadd(lib):
    x = lib.tensor([1.0], requires_grad=True)
    x += 1


def leaf_zero_(lib):
    lib.tensor([1.0], requires_grad=True).zero_()


def leaf_copy_(lib):
    lib.tensor([1.0], requires_grad=True).copy_(lib.tensor([2.0]))


def leaf_setitem(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x[0] = 5.0


ISSUE_ERRORS = [no_grad_backward, no_grad_second_root, freed_graph, freed_graph_autograd_grad,
                non_scalar, int_requires_grad, int_factory_requires_grad, arange_requires_grad,
                bool_requires_grad, int_requires_grad_, int_requires_grad_setter, leaf_add_,
                leaf_iadd, leaf_zero_, leaf_copy_, leaf_setitem]


@pytest.mark.parametrize("scenario", ISSUE_ERRORS, ids=lambda f: f.__name__)
def test_issue_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_issue_errors_text():
    """The key messages, spelled out, so they are checked where torch is not installed."""
    cases = {
        no_grad_backward: "element 0 of tensors does not require grad and does not have a "
                          "grad_fn",
        no_grad_second_root: "element 1 of tensors does not require grad",
        freed_graph: "Trying to backward through the graph a second time",
        non_scalar: "grad can be implicitly created only for scalar outputs",
        int_requires_grad: "Only Tensors of floating point and complex dtype can require "
                           "gradients",
        int_requires_grad_: "only Tensors of floating point dtype can require gradients",
        leaf_add_: "a leaf Variable that requires grad is being used in an in-place operation.",
        leaf_setitem: "a view of a leaf Variable that requires grad is being used in an "
                      "in-place operation.",
    }
    for scenario, text in cases.items():
        with pytest.raises(RuntimeError, match=re.escape(text)):
            scenario(funcgrad)


def test_non_leaf_grad_warning(torch):
    def scenario(lib):
        y = lib.tensor(1.0, requires_grad=True) * 2
        assert y.grad is None

    assert_warns_as_torch(torch, scenario)
    with pytest.warns(UserWarning, match="use .retain_grad\\(\\) on the non-leaf Tensor"):
        scenario(funcgrad)


def test_no_warning_for_leaves_and_retained_grads():
    x = funcgrad.tensor(1.0, requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert x.grad is None and y.grad is None  # filterwarnings=error turns a warning into a failure


# ----- more of torch's errors ------------------------------------------------------------------
def wrong_shape_gradient(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(lib.tensor([1.0, 2.0, 3.0]))


def wrong_rank_gradient(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(lib.ones(2, 1))


def grad_of_constant_input(lib):
    lib.autograd.grad(lib.tensor(1.0, requires_grad=True) * 2, lib.tensor(1.0))


def grad_of_unused_input(lib):
    x, z = lib.tensor(2.0, requires_grad=True), lib.tensor(1.0, requires_grad=True)
    lib.autograd.grad(x * 2, [x, z])


def numpy_of_requires_grad(lib):
    lib.tensor([1.0], requires_grad=True).numpy()


def item_of_many(lib):
    lib.tensor([1.0, 2.0]).item()


def bool_of_many(lib):
    bool(lib.tensor([1.0, 2.0]))


def assign_grad_of_wrong_size(lib):
    lib.tensor([1.0, 2.0], requires_grad=True).grad = lib.tensor([1.0])


def assign_grad_of_wrong_type(lib):
    lib.tensor([1.0, 2.0], requires_grad=True).grad = [1.0, 2.0]


def retain_grad_without_grad(lib):
    lib.tensor(1.0).retain_grad()


def hook_without_grad(lib):
    lib.tensor(1.0).register_hook(lambda g: g)


def non_leaf_requires_grad_off(lib):
    (lib.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)


def non_leaf_requires_grad_setter(lib):
    y = lib.tensor([1.0], requires_grad=True) * 2
    y.requires_grad = False


def inplace_wrong_shape(lib):
    lib.tensor([1.0, 2.0]).add_(lib.ones(3, 2))


def broadcast_mismatch(lib):
    lib.tensor([1.0, 2.0], requires_grad=True) + lib.ones(3)


def broadcast_mismatch_inner(lib):
    lib.ones(5, 2, 1) * lib.ones(3, 4)


def where_mismatch(lib):
    lib.where(lib.ones(2) > 0, lib.ones(3), lib.ones(4))


def backward_inputs_empty(lib):
    (lib.tensor(1.0, requires_grad=True) * 2).backward(inputs=[])


def backward_inputs_without_grad(lib):
    (lib.tensor(1.0, requires_grad=True) * 2).backward(inputs=[lib.tensor(1.0)])


def len_of_0d(lib):
    len(lib.tensor(1.0))


def clamp_without_bounds(lib):
    lib.clamp(lib.tensor([1.0]))


def inverse_of_a_non_square_matrix(lib):
    lib.linalg.inv(lib.ones(2, 3))


def det_of_a_vector(lib):
    lib.det(lib.ones(3))


def cholesky_of_a_non_square_batch(lib):
    lib.linalg.cholesky(lib.ones(4, 2, 3))


MORE_ERRORS = [wrong_shape_gradient, wrong_rank_gradient, grad_of_constant_input,
               pytest.param(grad_of_unused_input, marks=pytest.mark.torch_wording),
               numpy_of_requires_grad, item_of_many, bool_of_many,
               assign_grad_of_wrong_size, assign_grad_of_wrong_type, retain_grad_without_grad,
               hook_without_grad, non_leaf_requires_grad_off, non_leaf_requires_grad_setter,
               inplace_wrong_shape, broadcast_mismatch, broadcast_mismatch_inner, where_mismatch,
               backward_inputs_empty, backward_inputs_without_grad, len_of_0d,
               clamp_without_bounds, inverse_of_a_non_square_matrix, det_of_a_vector,
               cholesky_of_a_non_square_batch]


@pytest.mark.parametrize("scenario", MORE_ERRORS, ids=lambda f: f.__name__)
def test_more_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


# ----- bad arguments to ops: torch's errors, never a result from a wrapped-around dim ----------
OP_ARGUMENT_ERRORS = {
    "neg_bool": lambda T: -T.tensor([True, False]),
    "sub_bools": lambda T: T.tensor([True]) - T.tensor([False]),
    "sub_bool_number": lambda T: T.tensor([True]) - 1,
    "rsub_bool": lambda T: 1 - T.tensor([True]),
    "mT_1d": lambda T: T.ones(3).mT,
    "H_1d": lambda T: T.ones(3).H,
    "H_3d": lambda T: T.ones(2, 2, 3).H,
    "mH_1d": lambda T: T.ones(3).mH,
    "adjoint_1d": lambda T: T.adjoint(T.ones(3)),
    "gradient_edge_order": lambda T: T.gradient(T.ones(4), edge_order=3),
    "tensorinv_halves": lambda T: T.linalg.tensorinv(T.ones(2, 3), ind=1),
    "tensorinv_ind": lambda T: T.linalg.tensorinv(T.ones(2, 2), ind=0),
    "tensorsolve_halves": lambda T: T.linalg.tensorsolve(T.ones(2, 3, 5), T.ones(2, 3)),
    "gradient_too_short": lambda T: T.gradient(T.ones(2, 3), dim=0, edge_order=2),
    "gradient_spacing_length": lambda T: T.gradient(T.ones(3, 3), spacing=(1.0, 2.0, 3.0)),
    "gradient_spacing_dims": lambda T: T.gradient(T.ones(3, 3), spacing=(1.0, 2.0, 3.0),
                                                  dim=(0, 1)),
    "rsub_bool_tensor": lambda T: T.rsub(T.tensor([True]), T.tensor([False])),
    "set_other_dtype": lambda T: T.zeros(2).set_(T.ones(3, dtype=T.int32)),
    "set_leaf_requiring_grad": lambda T: T.zeros(2, requires_grad=True).set_(T.ones(3)),
    "matmul_2d_2d": lambda T: T.ones(4, 5) @ T.ones(3, 2),
    "matmul_3d_2d": lambda T: T.ones(2, 4, 5) @ T.ones(3, 2),
    "matmul_1d_1d": lambda T: T.ones(3) @ T.ones(2),
    "matmul_2d_1d": lambda T: T.ones(4, 5) @ T.ones(3),
    "matmul_3d_1d": lambda T: T.ones(2, 4, 5) @ T.ones(3),
    "matmul_1d_2d": lambda T: T.ones(5) @ T.ones(3, 2),
    "matmul_3d_3d": lambda T: T.ones(2, 4, 5) @ T.ones(2, 3, 2),
    "matmul_4d_3d": lambda T: T.ones(2, 3, 4, 5) @ T.ones(3, 3, 2),
    "matmul_batches": lambda T: T.ones(2, 3, 4, 5) @ T.ones(2, 2, 5, 2),
    "mm": lambda T: T.mm(T.ones(4, 5), T.ones(3, 2)),
    "bmm_inner": lambda T: T.bmm(T.ones(2, 4, 5), T.ones(2, 3, 2)),
    "bmm_batch": lambda T: T.bmm(T.ones(2, 4, 5), T.ones(3, 5, 2)),
    "mv": lambda T: T.mv(T.ones(4, 5), T.ones(3)),
    "dot": lambda T: T.dot(T.ones(3), T.ones(2)),
    "addmm": lambda T: T.addmm(T.ones(2, 2), T.ones(2, 3), T.ones(2, 2)),
    "sum_dim": lambda T: T.ones(2, 3).sum(2),
    "mean_negative_dim": lambda T: T.ones(2, 3).mean(-3),
    "sum_dims_of_0d": lambda T: T.tensor(1.0).sum((0, 1)),
    "cumsum_dim": lambda T: T.cumsum(T.ones(3), 1),
    "logcumsumexp_dim": lambda T: T.logcumsumexp(T.ones(3), 1),
    "argmax_dim": lambda T: T.argmax(T.ones(3), 1),
    "max_dim": lambda T: T.max(T.ones(3), 1),
    "softmax_dim": lambda T: T.softmax(T.ones(2, 3), 2),
    "sort_dim": lambda T: T.sort(T.ones(3), dim=2),
    "sort_dim_of_0d": lambda T: T.sort(T.tensor(1.0), dim=1),
    "flip_dim": lambda T: T.flip(T.ones(3), [1]),
    "roll_dim": lambda T: T.roll(T.ones(3), 1, 1),
    "topk_dim": lambda T: T.topk(T.ones(3), 1, dim=1),
    "topk_negative_k": lambda T: T.topk(T.ones(3), -1),
    "topk_k_too_large": lambda T: T.topk(T.ones(3), 5),
    "transpose_dim": lambda T: T.ones(3, 1).transpose(0, 2),
    "unsqueeze_dim": lambda T: T.ones(3).unsqueeze(3),
    "squeeze_dim": lambda T: T.ones(3, 1).squeeze(4),
    "squeeze_dims": lambda T: T.ones(3, 1).squeeze((0, 5)),
    "flatten_dim": lambda T: T.ones(3, 1).flatten(0, 4),
    "flatten_order": lambda T: T.ones(3, 1, 2).flatten(2, 1),
    "unflatten_dim": lambda T: T.ones(6).unflatten(1, (2, 3)),
    "unflatten_sizes": lambda T: T.ones(6).unflatten(0, (4, 2)),
    "unflatten_inferred": lambda T: T.ones(6).unflatten(0, (4, -1)),
    "view_size": lambda T: T.ones(6).view(4, -1),
    "view_zero": lambda T: T.ones(6).view(0, -1),
    "reshape_size": lambda T: T.ones(6).reshape(4, 2),
    "reshape_two_inferred": lambda T: T.ones(6).reshape(-1, -1),
    "reshape_negative": lambda T: T.ones(6).reshape(-2, 3),
    "permute_repeated": lambda T: T.ones(2, 3).permute(0, 0),
    "permute_length": lambda T: T.ones(2, 3).permute(0),
    "permute_dim": lambda T: T.ones(2, 3).permute(0, 2),
    "movedim_dim": lambda T: T.movedim(T.ones(2, 3), 2, 0),
    "movedim_lengths": lambda T: T.movedim(T.ones(2, 3), (0, 1), (0,)),
    "movedim_repeated_source": lambda T: T.movedim(T.ones(2, 3), (0, 0), (1, 0)),
    "movedim_repeated_destination": lambda T: T.movedim(T.ones(2, 3), (0, 1), (1, 1)),
    "cat_dim": lambda T: T.cat([T.ones(2, 3)], dim=2),
    "cat_ndims": lambda T: T.cat([T.ones(2, 3), T.ones(2)]),
    "cat_sizes": lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
    "cat_sizes_dim_1": lambda T: T.cat([T.ones(2, 3), T.ones(3, 3)], dim=-1),
    "cat_0d": lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]),
    "stack_dim": lambda T: T.stack([T.ones(2, 3)], dim=3),
    "stack_shapes": lambda T: T.stack([T.ones(2), T.ones(3)]),
    "stack_ndims": lambda T: T.stack([T.ones(2, 3), T.ones(2)]),
    "split_dim": lambda T: T.split(T.ones(2, 3), 1, dim=4),
    "split_zero": lambda T: T.ones(3).split(0),
    "split_negative": lambda T: T.ones(3).split(-1),
    "split_sizes_negative": lambda T: T.ones(3).split([4, -1]),
    "chunk_zero": lambda T: T.ones(3).chunk(0),
    "chunk_negative": lambda T: T.ones(3).chunk(-2),
    "unbind_dim": lambda T: T.unbind(T.ones(2, 3), 3),
    "unbind_0d": lambda T: T.unbind(T.tensor(1.0)),
    "narrow_dim": lambda T: T.narrow(T.ones(2, 3), 5, 0, 1),
    "narrow_length": lambda T: T.narrow(T.ones(2, 3), 1, 2, 5),
    "narrow_start": lambda T: T.narrow(T.ones(3), 0, 5, 1),
    "narrow_negative_length": lambda T: T.narrow(T.ones(3), 0, 0, -1),
    "select_dim": lambda T: T.select(T.ones(2, 3), 2, 0),
    "select_index": lambda T: T.select(T.ones(2, 3), 1, 7),
    "select_negative_index": lambda T: T.select(T.ones(2, 3), 1, -4),
    "repeat_fewer_dims": lambda T: T.ones(2, 3).repeat(2),
    "repeat_negative": lambda T: T.ones(3).repeat(-1),
    "tile_negative": lambda T: T.tile(T.ones(3), (-1,)),
    "expand_size": lambda T: T.ones(3).expand(2, 4),
    "expand_fewer_sizes": lambda T: T.ones(2, 3).expand(3),
    "expand_inferred_leading": lambda T: T.ones(3).expand(-1, 3),
    "diff_order": lambda T: T.diff(T.ones(3), n=-1),
    "diff_dim": lambda T: T.diff(T.ones(3), dim=1),
    "gather_index_dtype": lambda T: T.gather(T.ones(2, 3), 1, T.ones(2, 1)),
    "gather_index_bool": lambda T: T.gather(T.ones(2, 3), 1, T.ones(2, 1, dtype=T.bool)),
    "gather_index_dims": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([0, 1])),
    "scatter_index_dtype": lambda T: T.ones(3).scatter(0, T.ones(1), 1.0),
    "scatter_index_dims": lambda T: T.ones(3).scatter(0, T.tensor([[0]]), 1.0),
    "scatter_src_dims": lambda T: T.ones(3).scatter(0, T.tensor([0]), T.ones(1, 1)),
    "scatter_add_index_dtype": lambda T: T.ones(3).scatter_add(0, T.ones(1), T.ones(1)),
    "scatter_add_index_dims": lambda T: T.ones(3).scatter_add(0, T.tensor([[0]]), T.ones(1, 1)),
    "index_select_index_dtype": lambda T: T.index_select(T.ones(3), 0, T.ones(2)),
    "index_select_index_int16": lambda T: T.index_select(
        T.ones(3), 0, T.tensor([0], dtype=T.int16)),
    "index_select_index_dims": lambda T: T.index_select(T.ones(3), 0, T.tensor([[0]])),
    # JAX would fill in NaN, or drop the write, for an index out of range; torch raises.
    "gather_out_of_range": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([[0], [3]])),
    "gather_negative": lambda T: T.gather(T.ones(2, 3), -1, T.tensor([[-1], [0]])),
    "scatter_out_of_range": lambda T: T.zeros(2, 3).scatter(0, T.tensor([[2, 0, 0]]), 1.0),
    "scatter_add_negative": lambda T: T.zeros(2, 3).scatter_add(1, T.tensor([[-1]]),
                                                                T.ones(1, 1)),
    "index_select_out_of_range": lambda T: T.index_select(T.ones(2, 3), 0, T.tensor([0, 3])),
    "index_select_dim_1_out_of_range": lambda T: T.index_select(T.ones(2, 3, 2), 1,
                                                                T.tensor([0, 5, 7])),
    "index_select_last_dim_out_of_range": lambda T: T.ones(2, 3, 2).index_select(-1,
                                                                              T.tensor([2])),
    "index_select_negative": lambda T: T.ones(2, 3).index_select(0, T.tensor([-1])),
    "max_of_nothing": lambda T: T.ones(0).max(),
    "min_of_nothing": lambda T: T.ones(0).min(),
    "amax_of_nothing": lambda T: T.ones(0).amax(),
    "argmax_of_nothing": lambda T: T.ones(0).argmax(),
    "argmin_of_nothing": lambda T: T.ones(2, 0).argmin(),
    "max_along_an_empty_dim": lambda T: T.ones(0, 3).max(0),
    "int_to_a_negative_power": lambda T: T.tensor([2]) ** -1,
    "masked_fill_shapes": lambda T: T.ones(2, 3).masked_fill(T.ones(3, 3, dtype=T.bool), 0.0),
    "masked_fill_shapes_1d": lambda T: T.ones(3).masked_fill(T.tensor([True, False]), 0.0),
    "inverse_of_ints": lambda T: T.inverse(T.ones(2, 2, dtype=T.int32)),
    "det_of_ints": lambda T: T.ones(2, 2, dtype=T.int32).det(),
    "logdet_of_ints": lambda T: T.logdet(T.ones(2, 2, dtype=T.int32)),
    "norm_of_ints": lambda T: T.norm(T.ones(2, 2, dtype=T.int32)),
    "softmax_without_dim": lambda T: T.ones(3).softmax(),
    "log_softmax_without_dim": lambda T: T.log_softmax(T.ones(3)),
    "frac_of_ints": lambda T: T.frac(T.ones(2, dtype=T.int32)),
    "frac_of_bools": lambda T: T.tensor([True]).frac(),
    "logaddexp_of_ints": lambda T: T.logaddexp(T.ones(2, dtype=T.int32), T.ones(2, dtype=T.int32)),
    "logaddexp2_of_ints": lambda T: T.ones(2, dtype=T.int32).logaddexp2(T.tensor([True])),
    "cdist_of_ints": lambda T: T.cdist(T.ones(2, 2), T.ones(2, 2, dtype=T.int32)),
    "heaviside_dtypes": lambda T: T.heaviside(T.ones(3), T.ones(3, dtype=T.int32)),
    "diagonal_same_dims": lambda T: T.diagonal(T.ones(2, 3), 0, 1, -1),
    "diagonal_dim": lambda T: T.ones(2, 3).diagonal(0, 0, 2),
    "diag_embed_same_dims": lambda T: T.diag_embed(T.ones(2, 3), 0, 1, -2),
    "diag_embed_dim": lambda T: T.ones(2, 3).diag_embed(0, 0, 3),
    "broadcast_shapes": lambda T: T.broadcast_shapes((2, 3), (4,)),
    "broadcast_shapes_later_arg": lambda T: T.broadcast_shapes((2, 3), 1, (1, 3), (0, 1)),
    "broadcast_tensors": lambda T: T.broadcast_tensors(T.ones(2, 3), T.ones(4)),
    "cartesian_prod_2d": lambda T: T.cartesian_prod(T.ones(2, 3), T.ones(3)),
    "tensor_split_no_sections": lambda T: T.tensor_split(T.ones(2, 3), 0, 1),
    "tensor_split_dim": lambda T: T.ones(2, 3).tensor_split(2, 2),
    "hsplit_indivisible": lambda T: T.hsplit(T.ones(2, 3), 4),
    "hsplit_zero": lambda T: T.ones(2, 3).hsplit(0),
    "hsplit_0d": lambda T: T.hsplit(T.tensor(1.0), 4),
    "vsplit_1d": lambda T: T.vsplit(T.ones(3), 3),
    "dsplit_2d": lambda T: T.ones(2, 3).dsplit(2),
    "rot90_one_dim": lambda T: T.rot90(T.ones(2, 3), 1, (0,)),
    "rot90_1d": lambda T: T.ones(3).rot90(),
    "rot90_same_dims": lambda T: T.rot90(T.ones(2, 3), 1, (1, -1)),
    "fliplr_1d": lambda T: T.fliplr(T.ones(3)),
    "flipud_0d": lambda T: T.tensor(1.0).flipud(),
    "take_along_dim_ndims": lambda T: T.take_along_dim(T.ones(2, 3), T.tensor([0]), 1),
    "tril_indices_negative_row": lambda T: T.tril_indices(-1, 3),
    "triu_indices_negative_col": lambda T: T.triu_indices(3, -2),
    "tril_indices_float": lambda T: T.tril_indices(3, 3, dtype=T.float32),
    "take_out_of_range": lambda T: T.take(T.ones(2, 3), T.tensor([0, 6])),
    "take_negative_out_of_range": lambda T: T.ones(2, 3).take(T.tensor([-7])),
    "block_diag_3d": lambda T: T.block_diag(T.ones(1, 2, 3)),
    "repeat_interleave_dim": lambda T: T.ones(2, 3).repeat_interleave(2, 2),
    "tensordot_sizes": lambda T: T.tensordot(T.ones(2, 3, 4), T.ones(3, 5, 2), 2),
    "tensordot_dims_sizes": lambda T: T.tensordot(T.ones(2, 3, 4), T.ones(3, 5, 2),
                                                  ([1, 2], [0, 1])),
    "inner_sizes": lambda T: T.inner(T.ones(2, 3), T.ones(2, 4)),
    "vdot_2d": lambda T: T.vdot(T.ones(2, 3), T.ones(3)),
    "vdot_sizes": lambda T: T.ones(3).vdot(T.ones(4)),
    "kthvalue_k": lambda T: T.kthvalue(T.ones(2, 3), 4, 1),
    "kthvalue_zero": lambda T: T.ones(2, 3).kthvalue(0),
    "median_dim": lambda T: T.median(T.ones(2, 3), 2),
    "median_empty_dim": lambda T: T.ones(2, 0).median(1),
    "quantile_q": lambda T: T.quantile(T.ones(2, 3), 1.5),
    "quantile_of_nothing": lambda T: T.quantile(T.ones(0), 0.5),
    "quantile_ints": lambda T: T.ones(3, dtype=T.int32).quantile(0.5),
    "nanmean_ints": lambda T: T.nanmean(T.ones(3, dtype=T.int32)),
    "aminmax_of_nothing": lambda T: T.aminmax(T.ones(0)),
    "cummax_dim": lambda T: T.ones(2, 3).cummax(2),
    "searchsorted_side_and_right": lambda T: T.searchsorted(T.tensor([1.0, 2.0]),
                                                            T.tensor([1.0]), side="left",
                                                            right=True),
    "searchsorted_shapes": lambda T: T.searchsorted(T.ones(2, 2), T.ones(3, 2)),
    "bucketize_2d": lambda T: T.bucketize(T.ones(3), T.ones(2, 2)),
    "cdist_1d": lambda T: T.cdist(T.ones(3), T.ones(2, 3)),
    "index_add_out_of_range": lambda T: T.ones(3, 4).index_add(1, T.tensor([0, 5]), T.ones(3, 2)),
    "index_add_count": lambda T: T.ones(3, 4).index_add(1, T.tensor([0, 1]), T.ones(3, 3)),
    "index_add_float_index": lambda T: T.ones(3, 4).index_add(1, T.tensor([0.0]), T.ones(3, 1)),
    "index_fill_out_of_range": lambda T: T.ones(3, 4).index_fill(1, T.tensor([-5]), 1.0),
    "index_fill_2d_index": lambda T: T.ones(3, 4).index_fill(1, T.tensor([[0]]), 1.0),
    "index_copy_out_of_range": lambda T: T.index_copy(T.ones(3, 4), 0, T.tensor([3]),
                                                      T.ones(1, 4)),
    "index_put_out_of_range": lambda T: T.ones(3, 4).index_put((T.tensor([3]),), T.ones(4)),
    "put_out_of_range": lambda T: T.ones(3, 4).put_(T.tensor([12]), T.ones(1)),
    "put_negative_out_of_range": lambda T: T.ones(3, 4).put(T.tensor([-13]), T.ones(1)),
    "masked_scatter_short_source": lambda T: T.ones(3, 4).masked_scatter(
        T.ones(3, 4, dtype=T.bool), T.ones(5)),
    "masked_select_float_mask": lambda T: T.ones(3, 4).masked_select(T.ones(3, 4)),
    "scatter_reduce_name": lambda T: T.ones(3).scatter_reduce(0, T.tensor([0]), T.ones(1), "add"),
    "scatter_reduce_out_of_range": lambda T: T.ones(3, 4).scatter_reduce(
        0, T.tensor([[3]]), T.ones(1, 1), "sum"),
    "bincount_negative": lambda T: T.bincount(T.tensor([-1, 2])),
    "bincount_2d": lambda T: T.bincount(T.tensor([[1, 2]])),
    "bincount_floats": lambda T: T.bincount(T.tensor([1.0, 2.0])),
    "histc_ints": lambda T: T.histc(T.tensor([1, 2], dtype=T.int32), 4),
    "histc_range": lambda T: T.histc(T.ones(3), 4, min=2, max=1),
    "gcd_floats": lambda T: T.gcd(T.ones(2), T.ones(2)),
    "bitwise_and_floats": lambda T: T.bitwise_and(T.ones(2), T.ones(2)),
    "polygamma_negative_n": lambda T: T.polygamma(-1, T.ones(2)),
    "renorm_p": lambda T: T.renorm(T.ones(2, 3), -1, 0, 1.0),
    "renorm_1d": lambda T: T.ones(3).renorm(2, 0, 1.0),
    "unfold_size": lambda T: T.ones(3, 4).unfold(1, 5, 1),
    "unfold_step": lambda T: T.ones(3, 4).unfold(1, 2, 0),
    "combinations_2d": lambda T: T.combinations(T.ones(3, 4)),
    "cov_3d": lambda T: T.cov(T.ones(2, 2, 2)),
    "trapezoid_x_length": lambda T: T.trapezoid(T.ones(3, 4), T.ones(3)),
    "fill_diagonal_1d": lambda T: T.ones(3).fill_diagonal_(1.0),
    "fill_1d_value": lambda T: T.fill(T.ones(3), T.ones(2)),
    "fractional_samples_dims": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 3, 7, 9), 2, output_size=3, _random_samples=T.ones(2, 3) / 2),
    "fractional_samples_batch": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 3, 7, 9), 2, output_size=3, _random_samples=T.ones(1, 3, 2) / 2),
    "fractional_samples_channels": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 3, 7, 9), 2, output_size=3, _random_samples=T.ones(2, 2, 2) / 2),
    "fractional_samples_per_plane": lambda T: T.nn.functional.fractional_max_pool3d(
        T.ones(2, 3, 4, 5, 6), 2, output_size=2, _random_samples=T.ones(2, 3, 2) / 2),
    "fractional_output_size": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 3, 7, 9), 2, output_size=(3, 3, 3)),
    "fractional_empty_plane": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 0, 3, 3), 2, output_size=1),
    "fractional_2d_input": lambda T: T.nn.functional.fractional_max_pool2d(T.ones(3, 3), 2,
                                                                          output_size=1),
    "fractional_5d_input": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(1, 2, 3, 4, 5), 2, output_size=1),
    "fractional_kernel": lambda T: T.nn.functional.fractional_max_pool3d(
        T.ones(2, 3, 4, 5, 6), (2, 2), output_size=2),
    "fractional_pool_too_large": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(2, 3, 7, 9), 4, output_size=5),
    "fractional_3d_too_large": lambda T: T.nn.functional.fractional_max_pool3d(
        T.ones(2, 3, 4, 5, 6), 2, output_size=(2, 2, 6)),
    "fractional_no_size": lambda T: T.nn.functional.fractional_max_pool2d(T.ones(1, 1, 4, 4), 2),
    "fractional_ratio_length": lambda T: T.nn.functional.fractional_max_pool2d(
        T.ones(1, 1, 4, 4), 2, output_ratio=(0.5, 0.5, 0.5)),
    "FractionalMaxPool2d_no_size": lambda T: T.nn.FractionalMaxPool2d(2),
    "FractionalMaxPool2d_ratio": lambda T: T.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    "FractionalMaxPool2d_both": lambda T: T.nn.FractionalMaxPool2d(2, 2, output_ratio=0.5),
    "FractionalMaxPool3d_ratio": lambda T: T.nn.FractionalMaxPool3d(
        2, output_ratio=(0.5, 1.0, 0.5)),
    "size_dim_out_of_range": lambda T: T.ones(2, 3).size(-3),
    "size_of_0d": lambda T: T.tensor(1.0).size(0),
    "triangular_solve_vector": lambda T: quietly(T.triangular_solve, T.ones(3), T.eye(3)),
    "triangular_solve_1d_A": lambda T: quietly(T.ones(3, 1).triangular_solve, T.ones(3)),
    "triangular_solve_sizes": lambda T: quietly(T.triangular_solve, T.ones(2, 2), T.eye(3)),
    "triangular_solve_batches": lambda T: quietly(T.triangular_solve, T.ones(2, 3, 2),
                                                T.ones(4, 3, 3)),
    "as_strided_lengths": lambda T: T.ones(6).as_strided((2, 2), (1,)),
    "as_strided_negative_stride": lambda T: T.ones(6).as_strided((2,), (-1,)),
    "as_strided_beyond": lambda T: T.ones(2, 3).as_strided((2,), (2,), 5),
    "as_strided_negative_offset": lambda T: T.as_strided(T.ones(6), (2,), (1,), -1),
    "nonzero_static_negative": lambda T: T.nonzero_static(T.ones(2), size=-1),
    "nonzero_static_float_size": lambda T: T.ones(2).nonzero_static(size=1.5),
    "matrix_norm_order": lambda T: T.linalg.matrix_norm(T.ones(2, 2), 3),
    "matrix_norm_fraction": lambda T: T.linalg.matrix_norm(T.ones(2, 2), 0.5),
    "matrix_norm_name": lambda T: T.linalg.matrix_norm(T.ones(2, 2), "max"),
    "matrix_norm_one_dim": lambda T: T.linalg.matrix_norm(T.ones(2, 2), 2, dim=(0,)),
    "matrix_norm_same_dims": lambda T: T.linalg.matrix_norm(T.ones(2, 2, 2), 1, dim=(1, -2)),
    "matrix_norm_vector": lambda T: T.linalg.matrix_norm(T.ones(2), 2),
    "matrix_norm_ints": lambda T: T.linalg.matrix_norm(T.ones(2, 2, dtype=T.int32)),
    "matrix_norm_low_precision": lambda T: T.linalg.matrix_norm(T.ones(2, 2, dtype=T.bfloat16),
                                                                "nuc"),
    "matrix_norm_int_dtype": lambda T: T.linalg.matrix_norm(T.ones(2, 2), dtype=T.int32),
    "matrix_norm_real_dtype": lambda T: T.linalg.matrix_norm(T.ones(2, 2, dtype=T.complex64),
                                                             dtype=T.float32),
    "matrix_norm_narrowing_dtype": lambda T: T.linalg.matrix_norm(T.ones(2, 2), 1,
                                                                  dtype=T.bfloat16),
    "norm_three_dims": lambda T: T.linalg.norm(T.ones(2, 2, 2), 2, dim=(0, 1, 2)),
    "norm_ord_of_3d": lambda T: T.linalg.norm(T.ones(2, 2, 2), "fro"),
    "norm_fro_of_vector": lambda T: T.linalg.norm(T.ones(2), "fro"),
    "norm_nuc_of_3d": lambda T: T.norm(T.ones(2, 2, 2), "nuc"),
    "norm_fro_three_dims": lambda T: T.ones(2, 2, 2).norm("fro", (0, 1, 2)),
    "fill__1d_value": lambda T: T.ones(3).fill_(T.ones(1)),
    "fill_diagonal_unequal": lambda T: T.ones(2, 3, 4).fill_diagonal_(1.0),
    "fill_diagonal_leaf": lambda T: T.ones(2, 2, requires_grad=True).fill_diagonal_(1.0),
    "index_add__leaf": lambda T: T.ones(3, requires_grad=True).index_add_(
        0, T.tensor([0]), T.ones(1)),
    "cdist_columns": lambda T: T.cdist(T.ones(2, 3), T.ones(2, 4)),
    "cdist_negative_p": lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3), -1),
    "diagonal_scatter_size": lambda T: T.diagonal_scatter(T.zeros(3, 4), T.ones(2)),
    "select_scatter_size": lambda T: T.select_scatter(T.zeros(3, 4), T.ones(3), 0, 1),
    "select_scatter_index": lambda T: T.select_scatter(T.zeros(3, 4), T.ones(4), 0, 5),
    "slice_scatter_size": lambda T: T.slice_scatter(T.zeros(3, 4), T.ones(3, 3), 1, 0, 4, 2),
    "vander_2d": lambda T: T.vander(T.ones(2, 2)),
    "vander_negative_N": lambda T: T.vander(T.ones(2), N=-1),
    "frexp_ints": lambda T: T.frexp(T.tensor([1, 2])),
    "sum_to_size": lambda T: T.ones(2, 3).sum_to_size(4),
    "positive_bool": lambda T: T.positive(T.tensor([True])),
    "linalg_lu_1d": lambda T: T.linalg.lu(T.ones(2)),
    "linalg_vander_N": lambda T: T.linalg.vander(T.ones(3), N=1),
    "cholesky_solve_sizes": lambda T: T.cholesky_solve(T.ones(3, 1), T.eye(2)),
    "addr_2d_vector": lambda T: T.addr(T.ones(2, 2), T.ones(2, 1), T.ones(2)),
    "narrow_copy_length": lambda T: T.ones(3).narrow_copy(0, 1, 5),
    "unsafe_chunk_zero": lambda T: T.ones(3).unsafe_chunk(0),
    "histogram_ints": lambda T: T.histogram(T.tensor([1, 2], dtype=T.int32), 3),
    "index_copy_slice_shape": lambda T: T.zeros(3, 4).index_copy_(0, T.tensor([0, 2]),
                                                                  T.ones(2, 3)),
    "index_copy_slice_shape_3d": lambda T: T.zeros(3, 4, 5).index_copy(1, T.tensor([0, 2]),
                                                                       T.ones(2, 2, 4)),
    "index_copy_scalar_slice": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([2]),
                                                                  T.tensor(1.0)),
    "index_copy_count": lambda T: T.zeros(3, 4).index_copy(1, T.tensor([0, 2]), T.ones(3, 3)),
    "index_copy_dims": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([1]), T.ones(4)),
    "index_copy_2d_index": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([[0, 1]]),
                                                              T.ones(2, 4)),
    "index_copy_scalar_source": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([0, 2]),
                                                                   T.tensor(1.0)),
    "index_copy_float_index": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([0.0]),
                                                                 T.ones(1, 4)),
    "index_copy_dtype": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([0]),
                                                           T.ones(1, 4, dtype=T.int32)),
    "index_copy_negative": lambda T: T.zeros(3, 4).index_copy(0, T.tensor([0, -1]),
                                                              T.ones(2, 4)),
    "index_add_shape": lambda T: T.zeros(3, 4).index_add(0, T.tensor([0, 2]), T.ones(2, 3)),
    "index_add_scalar_source": lambda T: T.zeros(3).index_add(0, T.tensor([2]), T.tensor(1.0)),
    "index_add_dims": lambda T: T.zeros(3, 4).index_add(0, T.tensor([0, 1]), T.ones(2, 4, 1)),
    "index_add_dtype": lambda T: T.zeros(3, 4).index_add_(0, T.tensor([0]),
                                                          T.ones(1, 4, dtype=T.int32)),
    "index_add_2d_index": lambda T: T.zeros(3, 4).index_add(
        0, T.tensor([[0, 2]], dtype=T.int32), T.ones(2, 4)),
    "index_add_dim_of_source": lambda T: T.zeros(3, 4).index_add(1, T.tensor([0, 2]),
                                                                 T.ones(3)),
    "index_reduce_name": lambda T: T.zeros(3).index_reduce(0, T.tensor([0]), T.ones(1), "sum"),
    "index_reduce_count": lambda T: quietly(T.zeros(3, 4).index_reduce, 0, T.tensor([0, 2, 0]),
                                          T.ones(2, 4), "prod"),
    "index_reduce_out_of_range": lambda T: quietly(T.zeros(3, 4).index_reduce_, 0,
                                                 T.tensor([0, -1]), T.ones(2, 4), "amax"),
    "index_reduce_shape": lambda T: quietly(T.zeros(3, 4).index_reduce, 0, T.tensor([0, 2]),
                                          T.ones(2, 3), "mean"),
    "index_put_value_shape": lambda T: T.zeros(3, 4).index_put_((T.tensor([0, 1]),),
                                                                T.ones(3, 4)),
    "setitem_value_shape": lambda T: T.zeros(3, 4).__setitem__(
        (slice(None), T.tensor([0, 1])), T.ones(3, 4)),
    "setitem_mask_value_shape": lambda T: T.zeros(3, 4).__setitem__(T.zeros(3, 4) == 0,
                                                                    T.ones(5)),
    "scatter_index_beyond_src": lambda T: T.zeros(3, 4).scatter_(0, T.tensor([[0, 1]]),
                                                                 T.ones(1, 1)),
    "scatter_index_beyond_self": lambda T: T.zeros(3, 4).scatter(1, T.tensor([[0, 1]] * 4), 1.0),
    "scatter_add_index_beyond_src": lambda T: T.zeros(3, 4).scatter_add_(
        0, T.tensor([[0, 1, 2, 0, 1]]), T.ones(1, 5)),
    "scatter_reduce_index_beyond_src": lambda T: T.zeros(3, 4).scatter_reduce(
        0, T.tensor([[0, 1]]), T.ones(1, 1), "sum"),
    "gather_index_beyond_self": lambda T: T.zeros(3, 4).gather(0, T.tensor([[0, 1, 2, 0, 1]])),
}


def quietly(method, *args, **kwargs):
    """Calls a function torch warns about (beta, or deprecated), without the warning."""
    with warnings.catch_warnings(action="ignore"):
        return method(*args, **kwargs)


def test_index_reduce_warns_as_torch_in_a_fresh_process(torch):
    # torch warns once per process, so its warning comes from a process of its own.
    code = ("import torch, warnings\nwith warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    torch.zeros(3).index_reduce(0, torch.tensor([0]), torch.ones(1), 'amin')\n"
            "print(w[0].category.__name__, w[0].message)")
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    with pytest.warns(UserWarning) as record:
        funcgrad.zeros(3).index_reduce(0, funcgrad.tensor([0]), funcgrad.ones(1), "amin")
    assert len(record) == 1
    assert message(f"UserWarning {record[0].message}") == message(theirs)


def test_lu_warns_as_torch(torch):
    assert_warns_as_torch(torch, lambda lib: lib.lu(lib.eye(2)))


@pytest.mark.parametrize("scenario", OP_ARGUMENT_ERRORS.values(), ids=OP_ARGUMENT_ERRORS)
def test_op_argument_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_meshgrid_without_indexing_warns_as_torch(torch):
    assert_warns_as_torch(torch, lambda T: T.meshgrid(T.ones(2), T.ones(3)))


def test_cross_without_dim_warns_as_torch(torch):
    assert_warns_as_torch(torch, lambda T: T.cross(T.ones(3, 2), T.ones(3, 2)))


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
def test_cross_without_a_dim_of_size_3_raises_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.cross(T.ones(2, 4), T.ones(2, 4)))


@pytest.mark.parametrize("change", ["add_", "mul_", "+="])
def test_inplace_cast_errors_match_torch(torch, change):
    """int32 + a float gives float32 in both libraries, which int32 cannot hold."""

    def scenario(lib):
        y = lib.tensor([1, 2], dtype=lib.int32)
        if change == "+=":
            y += 1.5
        else:
            getattr(y, change)(1.5)

    assert_raises_as_torch(torch, scenario)


def test_copy_and_fill_cast_instead_of_raising(torch):
    def scenario(lib):
        y = lib.tensor([1, 2], dtype=lib.int32)
        copied = y.copy_(lib.tensor([2.7, -1.2])).tolist()
        return copied, y.fill_(3.5).tolist(), y.dtype == lib.int32

    assert scenario(funcgrad) == scenario(torch) == ([2, -1], [3, 3], True)


def test_inplace_cast_error_for_bool_matches_torch(torch):
    with jax.enable_x64(True):  # bool + 1 is int64 in both libraries
        assert_raises_as_torch(torch, lambda lib: lib.tensor([True, False]).add_(1))


# ----- the version counter ---------------------------------------------------------------------
def modified_saved_input(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    z.sum().backward()


def modified_saved_input_clamp(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    z = y.cos()
    y.clamp_(0, 1)
    z.sum().backward()


def modified_saved_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    with lib.no_grad():
        x.mul_(2)
    z.sum().backward()


def modified_through_detach(lib):
    x = lib.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 2
    z = y * y
    y.detach().zero_()
    z.sum().backward()


def modified_twice(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y.pow(2)
    y.add_(1).mul_(2)
    z.sum().backward()


def marked_modified(lib):
    """A saved tensor marked as changed by autograd.graph.increment_version, as a custom
    in-place kernel marks what it writes."""
    x = lib.tensor([2.0, 3.0], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    lib.autograd.graph.increment_version([y])
    z.backward()


VERSION_ERRORS = [modified_saved_input, modified_saved_input_clamp, modified_saved_leaf,
                  modified_through_detach, modified_twice, marked_modified]


def test_graph_nodes_are_autograd_graph_nodes(torch):
    for lib in (funcgrad, torch):
        x = lib.tensor(2.0, requires_grad=True)
        node = (x * x).grad_fn
        assert isinstance(node, lib.autograd.graph.Node)
        assert isinstance(node.next_functions[0][0], lib.autograd.graph.Node)  # x's accumulator
        assert not isinstance(x, lib.autograd.graph.Node)


@pytest.mark.torch_wording
@pytest.mark.parametrize("scenario", VERSION_ERRORS, ids=lambda f: f.__name__)
def test_version_errors_match_torch(torch, scenario):
    text = assert_raises_as_torch(torch, scenario)
    assert "funcgrad.autograd.set_detect_anomaly(True, check_nan=False)" in text


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@pytest.mark.filterwarnings("ignore:Error detected in")
@pytest.mark.torch_wording
def test_version_error_in_anomaly_mode_matches_torch(torch):
    """Anomaly mode swaps the hint for one pointing at the forward's traceback."""

    def scenario(lib):
        with lib.autograd.detect_anomaly(check_nan=False):
            modified_saved_input(lib)

    text = assert_raises_as_torch(torch, scenario)
    assert text.endswith("Good luck!")


# ----- 64-bit without jax_enable_x64 -----------------------------------------------------------
@pytest.mark.parametrize("ask", [
    lambda: funcgrad.tensor([1.0], dtype=funcgrad.float64),
    lambda: funcgrad.zeros(2, dtype=funcgrad.float64),
    lambda: funcgrad.tensor([1.0, 2.0]).double(),
    lambda: funcgrad.tensor([1.0, 2.0], requires_grad=True).to(funcgrad.float64),
    lambda: funcgrad.arange(3, dtype=funcgrad.int64),
    lambda: funcgrad.set_default_dtype(funcgrad.float64),
], ids=["tensor", "zeros", "double", "to", "int64", "set_default_dtype"])
def test_float64_without_x64_says_how_to_enable_it(ask):
    assert not jax.config.jax_enable_x64
    with pytest.raises(RuntimeError) as info:
        ask()
    text = str(info.value)
    assert "needs 64-bit mode in JAX, and jax_enable_x64 is off" in text
    assert "jax.config.update('jax_enable_x64', True)" in text
    assert "JAX_ENABLE_X64=1" in text
    assert funcgrad.get_default_dtype() == funcgrad.float32


def test_float64_with_x64():
    with jax.enable_x64(True):
        x = funcgrad.tensor([1.0, 2.0], dtype=funcgrad.float64, requires_grad=True)
        (x * x).sum().backward()
        assert x.grad.dtype == funcgrad.float64
        assert x.grad.tolist() == [2.0, 4.0]


def test_import_changes_no_jax_config_and_warns_nothing():
    code = "import funcgrad, jax; print(jax.config.jax_enable_x64)"
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False\n"
    assert done.stderr == ""


# ----- bad input loses nothing -----------------------------------------------------------------
def snapshot(*tensors) -> list:
    """Everything a failed call must leave alone: each tensor's values, version, grad_fn and
    requires_grad, and its .grad box with that box's values."""
    state = []
    for t in tensors:
        grad = t._grad
        state.append((t.tolist(), t._version, t.grad_fn, t.requires_grad, grad,
                      None if grad is None else (grad.tolist(), grad._version)))
    return state


def assert_unchanged(before, *tensors):
    after = snapshot(*tensors)
    for b, a in zip(before, after):
        assert a[:2] == b[:2] and a[3] == b[3] and a[5] == b[5]
        assert a[2] is b[2] and a[4] is b[4]


def leaves():
    a = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    b = funcgrad.tensor([0.5, -1.0], requires_grad=True)
    (a * b).sum().backward()  # both start with a .grad, so accumulation could corrupt them
    return a, b


def test_backward_through_a_freed_graph_touches_no_grad():
    a, b = leaves()
    y = a.exp() * b
    y.sum().backward()
    before = snapshot(a, b)
    z = (y + a * 3 + b).sum()  # fresh nodes for a and b in front of a freed one
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()
    assert_unchanged(before, a, b)


@pytest.mark.parametrize("bad", [
    lambda y, lib: y.backward(lib.ones(3)),
    lambda y, lib: y.backward(),
    lambda y, lib: y.backward(inputs=[]),
    lambda y, lib: y.backward(inputs=[lib.tensor(1.0)]),
    lambda y, lib: lib.autograd.backward([y.sum(), lib.tensor(1.0)]),
    lambda y, lib: lib.autograd.grad(y.sum(), [y, lib.tensor(1.0, requires_grad=True)]),
    lambda y, lib: lib.autograd.grad(y.sum(), lib.tensor(1.0)),
], ids=["wrong-shape", "non-scalar", "empty-inputs", "input-without-grad", "second-root",
        "unused-input", "input-not-requiring-grad"])
def test_a_rejected_backward_keeps_grads_and_graph(bad):
    a, b = leaves()
    y = a.sin() * b
    before = snapshot(a, b)
    with pytest.raises(RuntimeError):
        bad(y, funcgrad)
    assert_unchanged(before, a, b)
    y.backward(funcgrad.ones(2))  # the graph is still whole: no 'second time' error
    np.testing.assert_allclose(a.grad.tolist(), np.array([0.5, -1.0]) * (1 + np.cos([1.0, 2.0])),
                               rtol=1e-6)


def test_a_hook_that_raises_midway_touches_no_grad():
    a, b = leaves()
    y = a * b
    z = (y.exp() + a).sum()

    def hook(g):
        raise ValueError("hook")

    handle = y.register_hook(hook)
    before = snapshot(a, b)
    with pytest.raises(ValueError, match="hook"):
        z.backward()
    assert_unchanged(before, a, b)
    handle.remove()
    z.backward()
    assert a.grad.tolist() == pytest.approx((np.array([0.5, -1.0]) * (1 + np.exp([0.5, -2.0]))
                                             + 1.0).tolist())


def test_a_version_error_touches_no_grad():
    a, b = leaves()
    y = a * 2
    z = (y * y + b).sum()
    y.add_(1)
    before = snapshot(a, b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    assert_unchanged(before, a, b)


@pytest.mark.parametrize("bad", [
    lambda t: t.add_(1),
    lambda t: t.mul_(funcgrad.ones(2)),
    lambda t: t.zero_(),
    lambda t: t.__setitem__(0, 3.0),
    lambda t: t.__iadd__(1),
], ids=["add_", "mul_", "zero_", "setitem", "+="])
def test_an_inplace_op_on_a_leaf_that_raises_changes_nothing(bad):
    a, b = leaves()
    before = snapshot(a, b)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        bad(a)
    assert_unchanged(before, a, b)


@pytest.mark.parametrize("bad", [
    lambda t: t.add_(funcgrad.ones(3, 2)),
    lambda t: t.mul_(funcgrad.ones(3)),
    lambda t: t.copy_(funcgrad.ones(2, 2)),
], ids=["add_-broadcast", "mul_-mismatch", "copy_-broadcast"])
def test_an_inplace_op_with_the_wrong_shape_changes_nothing(bad):
    a, b = leaves()
    y = a * b
    before = snapshot(a, b, y)
    with pytest.raises(RuntimeError):
        bad(y)
    assert_unchanged(before, a, b, y)
    y.sum().backward()  # y's graph is untouched
    assert a.grad.tolist() == [1.0, -2.0] and b.grad.tolist() == [2.0, 4.0]


def test_an_inplace_cast_error_changes_nothing():
    counts = funcgrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        counts.add_(1.5)
    assert counts.tolist() == [1, 2] and counts._version == 0


def test_a_failing_op_records_nothing():
    a, b = leaves()
    y = a * b
    before = snapshot(a, b, y)
    for bad in (lambda: a + funcgrad.ones(3), lambda: y @ funcgrad.ones(3, 3),
                lambda: funcgrad.cat([y, funcgrad.ones(2, 2)]), lambda: y.reshape(3)):
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            bad()
    assert_unchanged(before, a, b, y)
    y.sum().backward()
    assert a.grad.tolist() == [1.0, -2.0] and b.grad.tolist() == [2.0, 4.0]


def _set(T, key, value=1.0):
    x = T.zeros(2, 3)
    x[key] = value


INDEX_ERRORS = {
    "int": lambda T: T.ones(3)[5],
    "negative_int": lambda T: T.ones(3)[-4],
    "int_in_dim_1": lambda T: T.ones(2, 3)[1, 3],
    "int_after_ellipsis": lambda T: T.ones(2, 3)[..., -4],
    "int_of_0d": lambda T: T.tensor(1.0)[0],
    "too_many": lambda T: T.ones(3)[0, 0],
    "too_many_with_ellipsis": lambda T: T.ones(3)[..., 0, 0],
    "mask_too_many": lambda T: T.ones(3)[T.ones(3, 1, dtype=T.bool)],
    "float": lambda T: T.ones(3)[1.0],
    "float_tensor": lambda T: T.ones(3)[T.tensor([1.0])],
    "tensor": lambda T: T.ones(3)[T.tensor([5])],
    "negative_tensor": lambda T: T.ones(3)[T.tensor([-4])],
    "tensor_in_dim_1": lambda T: T.ones(2, 3)[:, T.tensor([0, 7, 9])],
    "list": lambda T: T.ones(3)[[0, 5]],
    "mask_shape": lambda T: T.ones(3)[T.tensor([True, False])],
    "mask_shape_2d": lambda T: T.ones(2, 3)[T.ones(2, 2, dtype=T.bool)],
    "mask_after_int": lambda T: T.ones(4, 2, 3)[1, T.ones(2, 2, dtype=T.bool)],
    "set_int": lambda T: _set(T, (0, 5)),
    "set_tensor": lambda T: _set(T, (0, T.tensor([3]))),
    "set_mask_shape": lambda T: _set(T, T.ones(2, 2, dtype=T.bool)),
    "set_value_shape": lambda T: _set(T, (0, slice(0, 2)), T.ones(3)),
    "set_value_dims": lambda T: _set(T, 0, T.ones(2, 3)),
}


@pytest.mark.parametrize("scenario", INDEX_ERRORS.values(), ids=INDEX_ERRORS)
def test_index_errors_match_torch(torch, scenario):
    # JAX clamps an index out of range (x[5] of 3 elements would be x[2]); torch raises.
    assert_raises_as_torch(torch, scenario)


def test_indices_in_range_still_index():
    x = funcgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x[-1, -3].item() == 4.0 and x[1][2].item() == 6.0
    assert x[..., -1].tolist() == [3.0, 6.0] and x[None, 1, :2].tolist() == [[4.0, 5.0]]
    assert x[:, funcgrad.tensor([-3, 2])].tolist() == [[1.0, 3.0], [4.0, 6.0]]
    assert x[x > 3].tolist() == [4.0, 5.0, 6.0] and x[np.int64(1), 0].item() == 4.0


@pytest.mark.parametrize("key", [(None, True), (0, False), (True, ..., 1)])
def test_a_bool_with_an_int_or_none_is_refused_and_two_steps_index(torch, key):
    # JAX would place the new dimension of such an index elsewhere than torch does.
    x = funcgrad.arange(6.0).reshape(2, 3)
    with pytest.raises(IndexError, match="index in two steps"):
        x[key]
    split = [k for k in key if type(k) is not bool], [k for k in key if type(k) is bool]
    x_t = torch.arange(6.0).reshape(2, 3)
    assert x[tuple(split[0])][(..., *split[1])].tolist() == \
        x_t[tuple(split[0])][(..., *split[1])].tolist()


FACTORY_ERRORS = {
    "zeros": lambda T: T.zeros(-1),
    "ones": lambda T: T.ones(2, -1),
    "empty": lambda T: T.empty(-1),
    "full": lambda T: T.full((-1,), 1.0),
    "rand": lambda T: T.rand(-1),
    "randn": lambda T: T.randn(2, -1),
    "randint_size": lambda T: T.randint(0, 5, (-1,)),
    "randint_bounds": lambda T: T.randint(5, 5, (2,)),
    "randperm": lambda T: T.randperm(-1),
    "eye_n": lambda T: T.eye(-1),
    "eye_m": lambda T: T.eye(2, -1),
    "linspace": lambda T: T.linspace(0, 1, -1),
    "arange_zero_step": lambda T: T.arange(0, 5, 0),
    "arange_step_sign": lambda T: T.arange(0, 5, -1),
    "arange_infinite": lambda T: T.arange(0, float("inf")),
    "linear_negative_size": lambda T: T.nn.Linear(-1, 2),
}


@pytest.mark.parametrize("scenario", FACTORY_ERRORS.values(), ids=FACTORY_ERRORS)
def test_factory_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_functional_softmax_without_dim_warns_and_picks_torchs_dim(torch, name):
    # Only nn.functional's softmax picks a dim for you (dim 1 of a 2-D input, with a warning);
    # funcgrad.softmax and the methods require it, as torch's do.
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert_warns_as_torch(torch, lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x)))
    with pytest.warns(UserWarning):
        ours = getattr(funcgrad.nn.functional, name)(funcgrad.tensor(x))
    with pytest.warns(UserWarning):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["H", "mH"])
def test_conjugate_transposes_match_torch(torch, name):
    assert_warns_as_torch(torch, lambda lib: getattr(lib.tensor(2.0), name))
    a = np.array([[1 + 2j, 3j, -1], [0.5, 2 - 1j, 4j]], np.complex64)
    shapes = [a, np.stack([a, 2 * a])] if name == "mH" else [a]
    for x in shapes:
        ours = getattr(funcgrad.tensor(x), name)
        theirs = getattr(torch.tensor(x), name).resolve_conj()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_set_shares_the_source_storage_as_torch_does(torch):
    for lib in (torch, funcgrad):
        x, source = lib.zeros(2), lib.tensor([1.0, 2.0, 3.0])
        assert x.set_(source) is x
        source.add_(1)
        np.testing.assert_array_equal(x.numpy(), [2.0, 3.0, 4.0])
        assert tuple(x.set_().shape) == (0,)
        w = lib.zeros(2, requires_grad=True)
        with lib.no_grad():
            w.set_(source)
        assert w.requires_grad and w.grad_fn is None and tuple(w.shape) == (3,)


def test_mT_of_a_0d_tensor_warns_and_is_the_identity(torch):
    assert_warns_as_torch(torch, lambda lib: lib.tensor(2.0).mT)
    x = funcgrad.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning):
        assert x.mT is x
