"""The tabs context's declaration: everything the framework reads of it, in one value."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from temporalio.common import SearchAttributeKey

from tests.contexts.tabs import domain
from tests.contexts.tabs.checks import TABS_CHECK
from tests.contexts.tabs.commands import CloseTab, RecordTabOutcome
from tests.contexts.tabs.handlers import HANDLERS
from tests.contexts.tabs.persistence import TABS
from tests.contexts.tabs.saga import TabActivities, TabSettlementSaga
from tests.contexts.tabs.saga_types import WORKFLOW_NAME, TabInput
from worker.context import BoundedContext
from worker.sagas.declaration import SagaDeclaration, SagaRecord
from workflows.saga.types import CommandDispatcher

TAB_ID = SearchAttributeKey.for_keyword("TabId")


def _activities(dispatcher: CommandDispatcher) -> Sequence[Callable[..., Any]]:
    tab = TabActivities(dispatcher)
    return [tab.charge, tab.credit, tab.refund, tab.record_outcome]


def _input(closed: Mapping[str, Any], correlation_id: str | None) -> TabInput:
    """From a TabClosed event's payload."""
    fields = ("tab_id", "account_id", "house_account_id", "total", "currency")
    return TabInput(**{name: closed[name] for name in fields}, correlation_id=correlation_id)


def _conflicted(tab_id: str, reason: str) -> tuple[str, dict[str, str]]:
    fields = {"tab_id": tab_id, "status": domain.TabStatus.CONFLICTED.value, "reason": reason}
    return RecordTabOutcome.name(), fields


SETTLEMENT = SagaDeclaration(
    kind="tab",
    workflow=TabSettlementSaga,
    workflow_name=WORKFLOW_NAME,
    activities=_activities,
    started_by="tabs.TabClosed",
    input_type=TabInput,
    start_input=_input,
    business_id=lambda tab: tab.tab_id,
    summary=lambda tab: f"Tab {tab.tab_id}: {tab.total} {tab.currency} from {tab.account_id}",
    id_attribute=TAB_ID,
    record=SagaRecord(
        table="tabs",
        ended=frozenset(status.value for status in domain.ENDED),
        state_column="status",
    ),
    conflict_command=_conflicted,
    requested_by=(CloseTab,),
)

CONTEXT = BoundedContext(
    name="tabs",
    handlers=HANDLERS,
    aggregates=(TABS,),
    events=(
        domain.TabOpened,
        domain.ItemAdded,
        domain.ItemRemoved,
        domain.TabClosed,
        domain.TabSettlementEnded,
    ),
    sagas=(SETTLEMENT,),
    models="tests.contexts.tabs.persistence",
    migrations="tests.contexts.tabs.migrations",
    checks=(TABS_CHECK,),
)
