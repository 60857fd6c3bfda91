"""``Compose``: build pipeline steps by name and run them in order."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from ocr_ds.errors import UserError
from ocr_ds.registry import PIPELINES, build


class Compose:
    """Run ``transforms`` (config dicts or callables) in order.

    A step returning ``None`` stops the pipeline and ``Compose`` returns ``None`` (mmcv's
    convention for "drop this sample"). ``key`` names the pipeline in error messages.
    """

    def __init__(self, transforms: Sequence[Mapping[str, Any] | Callable] | None,
                 key: str = "pipeline"):
        if transforms is None:
            transforms = []
        if not isinstance(transforms, (list, tuple)):
            raise UserError(f"{key}: expected a list of steps (got {type(transforms).__name__})")
        self.transforms: list[Callable] = []
        for i, step in enumerate(transforms):
            if isinstance(step, Mapping):
                self.transforms.append(build(PIPELINES, step, f"{key}.{i}"))
            elif callable(step):
                self.transforms.append(step)
            else:
                raise UserError(f"{key}.{i}: expected a dict with a 'type' key or a callable "
                                f"(got {step!r})")

    def __call__(self, results: dict[str, Any], start: int = 0) -> dict[str, Any] | None:
        """Run the steps from index ``start`` on (``start=1`` skips the image loader)."""
        for step in self.transforms[start:]:
            results = step(results)
            if results is None:
                return None
        return results

    def __len__(self) -> int:
        return len(self.transforms)

    def __repr__(self) -> str:
        inner = ", ".join(type(t).__name__ for t in self.transforms)
        return f"Compose([{inner}])"
