"""Incremental syncs: what earlier syncs emitted, and so what this one sends and what it soft-deletes.

The state file remembers, per entity URN, a hash of the graph value its MCPs were made from and a hash of
every aspect sent, plus the entities the bridge soft-deleted. It belongs to one setup: the values that make
URNs and the sink they went to (`identity`); a state file of another setup is refused, never reused.

With it, a sync
- skips an entity whose value is unchanged (same hash, same bridge and emit options): nothing is built;
- builds a changed entity's MCPs and sends only those whose hash is new (a run's end event, a changed
  description), so a run that finished since sends its end, not its start again;
- soft-deletes (`status.removed`) the DAGs, tasks, datasets and assertions an earlier sync emitted, with
  their `status`, that are gone; a run is history, it ages out and is never removed, and a warehouse table
  the bridge only names beside its dbt model is the warehouse connector's. An entity that comes back is sent
  whole, its `status` saying it is not removed;
- neither removes nor forgets an entity whose source could not be read this time (a DAG whose serialized
  row is corrupt);
- holds every removal when one kind of entity would lose more than `fail_safe_threshold` percent of what it
  had (an emptied Airflow DB, a manifest of another project): it removes nothing, remembers the gone entities
  as they were (so the next sync holds them again, or removes them when forced), and fails saying how;
- sends an aspect it sent before and no longer produces (a domain rule removed, the last owner or tag gone)
  in its empty form, on the entities it owns (those it sends `status` for), so DataHub does not keep the old
  value;
- writes, before the first record goes to the sink, the state to leave whatever happens next (a sink error,
  Ctrl-C, a kill): unchanged entities as they were, every other one as sent with nothing known of its aspects
  (the next sync sends it whole, and removes it when it is gone), so nothing delivered is forgotten and no
  changed value is taken for delivered (`ahead_state`); the state after a complete sync replaces it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import orjson
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DomainsClass, GlobalTagsClass, OwnershipClass, UpstreamLineageClass

from bridge.emit.aspects import STATUS_REMOVED, mcp
from bridge.emit.mcps import Entity, entity_mcps
from bridge.emit.sinks.base import aspect_json
from bridge.emit.urns import is_owned_dataset_platform
from bridge.errors import StateError
from bridge.model.graph import Dataset
from bridge.outputs import write_output

STATE_VERSION = 1
# Entity kinds a sync removes when they are gone, in the groups the fail-safe counts apart.
REMOVABLE = {
    "dataFlow": "DAGs and tasks",
    "dataJob": "DAGs and tasks",
    "dataset": "datasets and assertions",
    "assertion": "datasets and assertions",
}
START_OVER = "Delete it, or pass another --state path, to start over (the next sync sends everything)."
# Aspects an entity may stop having, as the empty value that replaces what an earlier sync sent.
EMPTY_FORMS: dict[str, Callable[[], object]] = {
    "domains": lambda: DomainsClass(domains=[]),
    "globalTags": lambda: GlobalTagsClass(tags=[]),
    "ownership": lambda: OwnershipClass(owners=[]),
    "upstreamLineage": lambda: UpstreamLineageClass(upstreams=[]),
}


class EntityState(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    value: str  # hash of the graph value the entity's MCPs were made from
    aspects: dict[str, list[str]]  # aspect name -> hashes of what was sent (a run has several events)


class SyncState(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    identity: dict[str, str]
    emitter: str  # the bridge version and emit options: another one rebuilds every entity
    entities: dict[str, EntityState]
    removed: list[str] = []


def load_state(path: Path, identity: Mapping[str, str]) -> SyncState | None:
    """The state an earlier sync left at `path`; None when there is none yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        hint = "Check the path and its permissions."
        raise StateError(str(path), f"cannot be read ({exc.strerror or exc})", hint) from None
    try:
        state = msgspec.json.decode(data, type=SyncState)
    except msgspec.DecodeError as exc:
        raise StateError(str(path), f"is not a state file this bridge wrote ({exc})", START_OVER) from None
    if state.version != STATE_VERSION:
        raise StateError(str(path), f"has version {state.version}, this bridge writes {STATE_VERSION}", START_OVER)
    odd = next((urn for urn in (*state.entities, *state.removed) if not _is_urn(urn)), None)
    if odd is not None:
        raise StateError(str(path), f"names {odd[:80]!r}, which is not a DataHub URN", START_OVER)
    if state.identity != dict(identity):
        differ = {k for k in {*state.identity, *identity} if state.identity.get(k) != identity.get(k)}
        raise StateError(
            str(path),
            f"was written for {_describe(state.identity, differ)}; this sync is {_describe(identity, differ)}",
            "Use one state file per setup: pass another --state path, or delete this one to start over.",
        )
    return state


def save_state(path: Path, state: SyncState) -> None:
    write_output(path, msgspec.json.encode(state), "state file")


def _is_urn(text: str) -> bool:
    parts = text.split(":", 3)
    return len(parts) == 4 and parts[:2] == ["urn", "li"] and bool(parts[2]) and bool(parts[3])


def _describe(identity: Mapping[str, str], keys: set[str]) -> str:
    return ", ".join(f"{key}={identity.get(key) or '(none)'}" for key in sorted(keys))


def value_hash(value: object) -> str:
    return hashlib.blake2b(msgspec.json.encode(value), digest_size=10).hexdigest()


def entity_kind(urn: str) -> str:
    return urn.split(":", 3)[2]


@dataclass(frozen=True, slots=True)
class Removals:
    """What a sync would soft-delete, and the groups in which that passes the fail-safe threshold."""

    urns: tuple[str, ...]
    held: tuple[str, ...]  # e.g. "DAGs and tasks: 12 of 12 (100%)"

    def message(self, threshold: float) -> str:
        return (
            f"removals held: this sync would soft-delete {', '.join(self.held)} of what earlier syncs emitted, "
            f"more than the fail-safe threshold of {threshold:g}%. Nothing was removed (the state file still "
            "holds them). If those entities are really gone (not an emptied source or a wrong configuration), "
            "run again with --fail-safe-threshold 100 (state.fail_safe_threshold) to remove them."
        )


@dataclass
class Incremental:
    """One incremental sync: feeds the sink what changed, then says what the next state is."""

    previous: SyncState | None
    identity: dict[str, str]
    emitter: str
    entities: dict[str, EntityState] = field(default_factory=dict)
    skipped: int = 0  # entities not rebuilt: unchanged since the last sync
    fingerprints: dict[str, str] = field(default_factory=dict)  # urn -> hash of its value, made once
    removed_before: frozenset[str] = field(init=False)  # what the previous sync had soft-deleted

    def __post_init__(self) -> None:
        self.removed_before = frozenset(self.previous.removed if self.previous else ())

    def fingerprint(self, entity: Entity) -> str:
        """The hash of the entity's value, made once (`ahead_state` and `changed` both need it)."""
        found = self.fingerprints.get(entity.urn)
        if found is None:
            found = self.fingerprints[entity.urn] = value_hash(entity.value)
        return found

    def unchanged(self, entity: Entity) -> EntityState | None:
        """The entity's previous state, if it is unchanged since (same value, same emitter, not removed)."""
        if self.previous is None or self.previous.emitter != self.emitter or entity.urn in self.removed_before:
            return None
        before = self.previous.entities.get(entity.urn)
        return before if before is not None and before.value == self.fingerprint(entity) else None

    def ahead_state(self, entities: Iterable[Entity], removing: Iterable[str] = ()) -> SyncState:
        """The state to leave while this sync's records are out (module docstring): written before the first
        one is handed to the sink, it is right whatever the sink then did (all, some or none delivered).
        `removing`: the entities this sync soft-deletes, which may or may not have been by then (kept, so
        removed again when still gone, and sent whole when back)."""
        previous = self.previous.entities if self.previous else {}
        kept = dict(previous)
        for urn in removing:
            if urn in previous:
                kept[urn] = EntityState("", {name: [] for name in previous[urn].aspects})
        for entity in entities:
            if self.unchanged(entity) is None:
                before = previous.get(entity.urn)
                names = list(before.aspects) if before else (["status"] if sends_status(entity) else [])
                kept[entity.urn] = EntityState("", {name: [] for name in names})  # sent, its aspects unknown
        removed = sorted(self.removed_before - set(kept))
        emitter = self.previous.emitter if self.previous else self.emitter
        return SyncState(STATE_VERSION, self.identity, emitter, dict(sorted(kept.items())), removed)

    def changed(self, entities: Iterable[Entity]) -> Iterator[MetadataChangeProposalWrapper]:
        previous = self.previous.entities if self.previous else {}
        serialised: dict[Any, object] = {}
        for entity in entities:
            same = self.unchanged(entity)
            if same is not None:
                self.entities[entity.urn] = same
                self.skipped += 1
                continue
            before = previous.get(entity.urn) if entity.urn not in self.removed_before else None
            sent: dict[str, list[str]] = {}
            known = {name: set(digests) for name, digests in before.aspects.items()} if before else {}
            for proposal in entity_mcps(entity):
                name = proposal.aspectName or ""
                digest = aspect_hash(proposal, serialised)
                sent.setdefault(name, []).append(digest)
                if digest not in known.get(name, ()):
                    yield proposal
            if before is not None and "status" in before.aspects:  # one of the bridge's own: retract what it lost
                for name in sorted(set(before.aspects) - set(sent)):
                    if name in EMPTY_FORMS:
                        yield mcp(entity.urn, EMPTY_FORMS[name]())
            self.entities[entity.urn] = EntityState(self.fingerprint(entity), sent)

    def removals(self, current: set[str], unread: Callable[[str], bool], threshold: float) -> Removals:
        """What earlier syncs emitted that this graph lacks (what could not be read aside), and whether the
        fail-safe holds it: per group, the share of what the previous state had."""
        if self.previous is None:
            return Removals((), ())
        removable = [urn for urn, state in self.previous.entities.items() if _removable(urn, state)]
        had = Counter(REMOVABLE[entity_kind(urn)] for urn in removable)
        gone = tuple(urn for urn in removable if urn not in current and not unread(urn))
        lost = Counter(REMOVABLE[entity_kind(urn)] for urn in gone)
        held = tuple(
            f"{group}: {count} of {had[group]} ({100 * count / had[group]:.0f}%)"
            for group, count in sorted(lost.items())
            if 100 * count / had[group] > threshold
        )
        return Removals(gone, held)

    def carry(self, urns: Iterable[str]) -> None:
        """Keep the previous state of entities this sync could not read."""
        previous = self.previous.entities if self.previous else {}
        for urn in urns:
            if urn in previous and urn not in self.entities:
                self.entities[urn] = previous[urn]

    def next_state(self, removed_now: Iterable[str]) -> SyncState:
        """The state after this sync: what it emitted or kept, and the removed entities still absent."""
        removed = sorted((self.removed_before | set(removed_now)) - set(self.entities))
        return SyncState(STATE_VERSION, self.identity, self.emitter, dict(sorted(self.entities.items())), removed)


def sends_status(entity: Entity) -> bool:
    """Whether the bridge sends the entity's `status` (and so removes it when it is gone): its DAGs, tasks and
    assertions, and the datasets it is the source of; not a warehouse table it only names beside its dbt model
    (`bridge.emit.datasets`)."""
    kind = entity_kind(entity.urn)
    if kind == "dataset":
        return isinstance(entity.value, Dataset) and is_owned_dataset_platform(entity.value.key.platform)
    return kind in REMOVABLE


def _removable(urn: str, state: EntityState) -> bool:
    """A kind the bridge removes, and an entity whose `status` the bridge sends: a warehouse table that only
    a dbt sibling names is the warehouse connector's to remove, not the bridge's."""
    return entity_kind(urn) in REMOVABLE and "status" in state.aspects


def removal_mcps(urns: Iterable[str]) -> list[MetadataChangeProposalWrapper]:
    return [mcp(urn, STATUS_REMOVED) for urn in sorted(urns)]


def aspect_hash(proposal: MetadataChangeProposalWrapper, serialised: dict[Any, object]) -> str:
    """A hash of the aspect as the sink writes it (keys sorted, so the same aspect always hashes alike)."""
    data = orjson.dumps(aspect_json(proposal.aspect, serialised), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def unread_dags(dag_ids: Iterable[str], cluster: str) -> Callable[[str], bool]:
    """Whether a URN is a flow or job of a DAG this sync could not read."""
    from bridge.emit.airflow import flow_urn

    flows = {flow_urn(dag_id, cluster) for dag_id in dag_ids}
    return lambda urn: urn in flows or (urn.startswith("urn:li:dataJob:(") and urn[16:].rsplit(",", 1)[0] in flows)
