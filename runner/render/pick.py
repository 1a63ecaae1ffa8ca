"""Choose the renderer for ``--output``; each is imported only when chosen."""

from __future__ import annotations

from typing import Literal

from runner.render.base import Renderer

Output = Literal["text", "json"]


def renderer_for(output: str, *, lines: bool = True) -> Renderer:
    """``lines``: JSON lines with a ``type`` each (runs); False for one document (plan)."""
    if output == "json":
        from runner.render.json import JsonRenderer

        return JsonRenderer(lines=lines)
    from runner.render.human import HumanRenderer

    return HumanRenderer()
