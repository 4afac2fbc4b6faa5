"""Features: one module per feature, one shape for all.

A feature module holds plain functions with one signature, ``fn(guide, ctx, route, text=None)``:
the application object, who asks (``engine.Context``), and the ``Route`` (``knowledge.route``) of
what is asked — the screen's route, the button's action with its args, or the input a screen
asked for with its args:

- data functions fill a screen's template, reading only: ``fn(guide, ctx, route) -> dict``;
- steps run before a screen's data function and may write (``before:``): ``fn(guide, ctx, route) -> dict``;
- actions answer a button: ``fn(guide, ctx, Route(action, args)) -> Screen``;
- inputs answer free text a screen asked for: ``fn(guide, ctx, Route(input, args), text) -> Screen``;
- listeners hear the engine's events: ``fn(guide, kind, ctx, value)``.

``screens.yaml`` names every one of them as ``<module>.<function>`` (``data:`` of each screen,
``do:`` under ``actions:``, ``inputs:`` and ``listeners:``), so a screen can be followed from
the YAML to its template, the function that fills it and the actions of its buttons.
``install(guide)`` resolves those names and hands the bound functions to the engine; a name
that does not resolve stops the start-up.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from ..routes import all_routes  # noqa: F401 - re-exported: its home is dialogs.routes
from ._shared import App

if TYPE_CHECKING:
    from ..engine import Engine

# The feature switches (screens' `feature:`, templates' `'<name>' in features`) that need a store.
STORE_FEATURES = ("store", "checklist", "feedback", "reminders")
ENGINE = "engine"  # "engine.go": the engine's own action


def resolve(name: str) -> Callable[..., Any]:
    """``"checklist.tick"`` → the function ``tick`` of ``dialogs.features.checklist``."""
    module, _, function = name.partition(".")
    if not module or not function or not module.isidentifier() or not function.isidentifier():
        raise ValueError(f"not a feature function (module.function): {name!r}")
    fn = getattr(importlib.import_module(f"{__name__}.{module}"), function, None)
    if not callable(fn):
        raise ValueError(f"screens.yaml names {name!r}, which does not exist")
    return fn


def install(guide: App, *, off: tuple[str, ...] = ()) -> None:
    """Bind every function screens.yaml names to ``guide`` and give them to its engine; the features
    in ``off`` stay off (e.g. reminders in a channel that cannot send a message later)."""
    engine = guide.engine
    bind = lambda name: partial(resolve(name), guide)  # noqa: E731
    # without a store, what needs one is never reached (the engine checks `feature:`): not even imported
    usable = lambda spec: guide.store is not None or spec.get("feature") not in STORE_FEATURES  # noqa: E731
    data = {screen: bind(spec["data"]) for screen, spec in engine.screens.items() if usable(spec)}
    steps = {screen: bind(spec["before"]) for screen, spec in engine.screens.items() if "before" in spec and usable(spec)}
    actions = {
        name: bind(spec["do"])
        for name, spec in engine.action_specs.items()
        if "do" in spec and not spec["do"].startswith(f"{ENGINE}.") and usable(spec)
    }
    inputs = {name: bind(spec["do"]) for name, spec in engine.input_specs.items() if usable(spec)}
    listeners = [_gated(engine, spec.get("feature"), bind(spec["do"])) for spec in engine.listener_specs if usable(spec)]
    if guide.store is not None:
        for feature in STORE_FEATURES:
            if feature not in off:
                engine.extend(feature)
    engine.extend(data=data, actions=actions, inputs=inputs, listeners=listeners, steps=steps)


def _gated(engine: "Engine", feature: str | None, listener: Callable[..., None]) -> Callable[..., None]:
    def listen(kind: str, ctx: Any, value: str) -> None:
        if not feature or feature in engine.features:
            listener(kind, ctx, value)

    return listen
