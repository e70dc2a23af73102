"""The state machines: one `transitions` Machine per procedure, built once at start-up.

A Machine per case would cost ~0.5 ms and O(n²) model registration in `transitions` (its FAQ: not made for thousands of models); instead each
procedure has one model-less machine and every case is fired through it wrapped in a CaseWorkflow,
which maps the machine's state onto the row's `state` column.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from transitions import EventData, Machine

from states import Procedure, load_procedures
from states.definition import EventSpec
from workflow.errors import InvalidInput, Message, NotFound
from workflow.guards import DEFAULTS, EFFECTS, GUARDS, TransitionContext
from workflow.models import Assessment
from workflow.threshold import Level
from workflow.validation import input_model, validate

log = logging.getLogger("shingi.engine")

#: Case attributes an event input may write to (`field:` in a procedure file).
WRITABLE_FIELDS = frozenset({
    "comment_start", "comment_end", "comment_shortened_reason", "comment_count", "reported_on",
    "submitted_on", "published_on", "last_reviewed_on", "withdrawn_reason", "planned_holding_date",
})


class CaseWorkflow:
    """What the machine drives: one case in one transition, its state kept in the row (and with it
    whether the public may see the case, from the state's tags)."""

    __slots__ = ("context", "procedure")

    def __init__(self, context: TransitionContext, procedure: Procedure):
        self.context = context
        self.procedure = procedure

    @property
    def state(self) -> str:
        return self.context.case.state

    @state.setter
    def state(self, value: str) -> None:
        self.context.case.state = value
        self.context.case.is_public = self.procedure.states[value].has("public")


def _context(event_data: EventData) -> TransitionContext:
    """The transition's context: every case is fired wrapped in a CaseWorkflow."""
    model = event_data.model
    if not isinstance(model, CaseWorkflow):
        raise TypeError(f"a case's machine fired for {model!r}")
    return model.context


def _run_guards(event: EventSpec, event_data: EventData) -> bool:
    context = _context(event_data)
    for name in event.guards:
        GUARDS[name](context)  # raises when the guard does not hold
    return True


def _apply_event(event: EventSpec, event_data: EventData) -> None:
    context = _context(event_data)
    for spec in event.inputs:
        if spec.field is not None:
            setattr(context.case, spec.field, context.inputs.get(spec.name))
    for name in event.effects:
        EFFECTS[name](context)


class ProcedureMachine:
    """One procedure's machine and its per-event input models, built once."""

    def __init__(self, procedure: Procedure):
        self.procedure = procedure
        transitions = [
            {
                "trigger": event.name,
                "source": source,
                "dest": event.target,
                "conditions": [partial(_run_guards, event)],
                "after": [partial(_apply_event, event)],
            }
            for event in procedure.events.values()
            for source in event.sources
        ]
        self.machine = Machine(
            model=None, states=list(procedure.states), transitions=transitions, initial=None,
            auto_transitions=False, send_event=True, model_attribute="state",
        )
        self.input_models: dict[str, type[BaseModel]] = {
            name: input_model(event) for name, event in procedure.events.items()
        }

    def fire(self, context: TransitionContext) -> None:
        self.machine.events[context.event.name].trigger(CaseWorkflow(context, self.procedure))


@dataclass(frozen=True)
class CaseAdvanced:
    """An event fired on a case and committed: what the observers of `Workflows` are told."""

    case_id: int
    #: The procedure the event belongs to (the case's before the event; an effect may move it to another).
    procedure: str
    event: str
    from_state: str
    to_state: str


#: Told of every committed advance (the composition root counts them); it must not raise, nor block.
AdvanceObserver = Callable[[CaseAdvanced], None]


class Workflows:
    """The loaded procedures and their machines; shared by every request (read-only after start, but
    for the observers the composition root adds)."""

    def __init__(self, procedures: Mapping[str, Procedure]):
        self.procedures = dict(procedures)
        self.machines = {name: ProcedureMachine(procedure) for name, procedure in self.procedures.items()}
        self._by_level = {level: procedure for procedure in self.procedures.values() for level in procedure.levels}
        self._observers: tuple[AdvanceObserver, ...] = ()

    def observe(self, observer: AdvanceObserver) -> None:
        """Tell `observer` of every advance from now on, after its commit; an observer added again is
        told once all the same."""
        if observer not in self._observers:
            self._observers = (*self._observers, observer)

    def advanced(self, change: CaseAdvanced) -> None:
        """Tell the observers that `change` was committed. The advance is done whatever they do: an
        observer that raises is logged and the others are told."""
        for observer in self._observers:
            try:
                observer(change)
            except Exception:
                log.exception("an observer of case advances failed on %s", change)

    @classmethod
    def load(cls, extra_dirs: Iterable[Path] = ()) -> Workflows:
        return cls(load_procedures(extra_dirs, guards=GUARDS, effects=EFFECTS, fields=WRITABLE_FIELDS,
                                   defaults=DEFAULTS))

    def procedure(self, name: str) -> Procedure:
        try:
            return self.procedures[name]
        except KeyError:
            raise NotFound(Message(f"手続「{name}」は定義されていません。", f"No procedure named '{name}'.")) from None

    def consultation_procedure(self) -> Procedure:
        """The procedure that serves consultations (諮問); the loader makes sure there is one."""
        return next(procedure for procedure in self.procedures.values() if procedure.serves == "consultation")

    def procedure_for_level(self, level: Level | str) -> Procedure:
        return self._by_level[str(level)]

    def check_inputs(self, case: Assessment, event: EventSpec, raw: Mapping[str, Any],
                     prefix: Sequence[str] = ()) -> None:
        """Refuse inputs the event's declaration does not admit (unknown, of the wrong type, too long …),
        their fields named under `prefix`; what depends on the day it fires (defaults, not in the
        future) is left to `validated_inputs` then."""
        validate(self.machines[case.procedure].input_models[event.name], raw, prefix)

    def validated_inputs(self, case: Assessment, event: EventSpec, raw: Mapping[str, Any],
                         today: date, session: Session) -> dict[str, Any]:
        """The event's inputs, validated against its declaration; those left out filled in by their
        `default_from` provider; dates of past facts not after today."""
        model = self.machines[case.procedure].input_models[event.name]
        values = validate(model, raw).model_dump()
        for spec in event.inputs:
            if spec.default_from is not None and values.get(spec.name) is None:
                values[spec.name] = DEFAULTS[spec.default_from](session, case)
            value = values.get(spec.name)
            if spec.not_future and value is not None and value > today:
                raise InvalidInput.single(
                    spec.name, "not_in_future",
                    f"{spec.title.ja}に未来の日付は指定できません。", f"{spec.title.en} cannot be in the future.",
                )
        return values

    def fire(self, context: TransitionContext) -> None:
        self.machines[context.case.procedure].fire(context)
