"""nncore.products: the formulation chosen for the running NumPy, and every formulation
giving the same products and passing the finite-difference gradient checks."""
from __future__ import annotations

import types

import numpy as np
import pytest

import nncore
from nncore import products
from tests import test_gradients

WITHOUT_BLAS = products._decide(False)  # what Pyodide's NumPy (no BLAS) runs
CHOICES = {"dot": "dot", "matmul": "matmul", "einsum": "einsum", "without-blas": WITHOUT_BLAS}


def test_a_numpy_with_blas_computes_every_product_with_np_dot_itself():
    assert products.blas_linked()  # this CPython's NumPy: OpenBLAS
    assert products.choice() == {product: {"narrow": "dot", "wide": "dot"}
                                 for product in products.PRODUCTS}
    # bound straight to np.dot's formulation: no step added in front of BLAS
    for product in products.PRODUCTS:
        assert getattr(products, product) is products._FORMS[product]["dot"]


def test_a_numpy_without_blas_uses_matmul_for_narrow_and_einsum_for_wide_operands():
    assert WITHOUT_BLAS == {product: {"narrow": "matmul", "wide": "einsum"}
                            for product in products.PRODUCTS}


@pytest.mark.parametrize("config, linked", [
    (types.SimpleNamespace(CONFIG={"Build Dependencies": {"blas": {"found": True}}}), True),
    (types.SimpleNamespace(CONFIG={"Build Dependencies": {"blas": {"found": False}}}), False),
    (types.SimpleNamespace(get_info=lambda name: {"libraries": ["openblas"]}), True),
    (types.SimpleNamespace(get_info=lambda name: {}), False),  # Pyodide 0.17's NumPy 1.17
    (types.SimpleNamespace(), True),  # unreadable: keep np.dot
])
def test_blas_is_read_from_either_configuration_layout(monkeypatch, config, linked):
    monkeypatch.setattr(np, "__config__", config)
    assert products.blas_linked() is linked


@pytest.mark.parametrize("names", CHOICES.values(), ids=CHOICES.keys())
@pytest.mark.parametrize("columns", [3, 40])  # narrow and wide b
def test_every_formulation_computes_the_same_products(names, columns):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(17, 23)), rng.normal(size=(23, columns))
    g = rng.normal(size=(17, columns))
    with products.using(names):
        got = [products.times(a, b), products.times_transposed(g, b),
               products.transposed_times(a, g)]
        out = np.empty((23, columns))
        assert products.transposed_times(a, g, out=out) is out
    for found, expected in zip(got, [a @ b, g @ b.T, a.T @ g]):
        np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, a.T @ g, rtol=1e-12, atol=1e-12)


def test_using_forces_a_choice_and_gives_the_imports_back():
    before = products.choice()
    with products.using(WITHOUT_BLAS):
        assert products.choice() == WITHOUT_BLAS
        with products.using("einsum"):
            assert products.choice()["times"] == {"narrow": "einsum", "wide": "einsum"}
        assert products.choice() == WITHOUT_BLAS
    assert products.choice() == before
    with pytest.raises(ValueError, match="formulation must be one of"):
        with products.using("blas"):
            pass


GRADIENT_CHECKS = {
    "dense": lambda: [test_gradients.test_dense_gradients(activation)
                      for activation in (None, "relu", "tanh")],
    "dense-declared-input": test_gradients.test_dense_with_declared_input_size_gradients,
    "dense-wide": lambda: test_gradients.check_layer(  # 40 units: a wide b
        nncore.Dense(40, activation="tanh"), np.random.default_rng(13).normal(size=(3, 5)),
        np.random.default_rng(14)),
    "conv2d": lambda: [test_gradients.test_conv2d_gradients(*case) for case in
                       [(3, 1, "valid", 6, 7), (3, 2, "same", 7, 6), ((2, 3), 1, "same", 5, 6)]],
    "conv2d-direct-loop": test_gradients.test_conv2d_matches_a_direct_loop,
    "network-mse": test_gradients.test_network_gradients_mse,
    "network-cross-entropy": lambda: test_gradients.test_network_gradients_cross_entropy(
        "fused", "integer"),
    "network-convolutional": test_gradients.test_network_gradients_convolutional,
}


@pytest.mark.parametrize("names", CHOICES.values(), ids=CHOICES.keys())
@pytest.mark.parametrize("check", GRADIENT_CHECKS.values(), ids=GRADIENT_CHECKS.keys())
def test_gradient_checks_pass_under_every_formulation(names, check):
    with products.using(names):
        check()
