"""``nn.utils.convert_parameters``, as PyTorch's: ``parameters_to_vector`` and
``vector_to_parameters`` (also in ``nn.utils`` itself)."""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-D tensor, in order, as
    ``torch.nn.utils.parameters_to_vector`` (differentiable: a reshape and a cat)."""
    from ...ops.movement import cat

    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    _one_device("parameters_to_vector", params)
    return cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Each parameter takes its slice of the 1-D ``vec``, in order (the inverse of
    ``parameters_to_vector``), as PyTorch's: the values are written in place, outside
    autograd. The sizes are checked first: nothing is written if they do not add up."""
    from ...tensor import _set_values

    params = list(parameters)
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{getattr(vec, 'shape', type(vec).__name__)}")
    _one_device("vector_to_parameters", [vec, *params])
    total = sum(p.size for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements, the "
                         f"parameters {total}")
    data, at = vec._data, 0
    for p in params:
        _set_values(p, data[at: at + p.size].reshape(p.shape).astype(p.dtype),
                    "vector_to_parameters")
        at += p.size


def _one_device(where: str, tensors: list[Tensor]) -> None:
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(f"{where}: the tensors are on several devices: {sorted(devices)}")
