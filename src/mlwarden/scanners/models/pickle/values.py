"""Symbolic values of the pickle machine: what a loader would build, without building it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlwarden.scanners.models.pickle.policy import GlobalVerdict, Verdict, classify_global

#: Items kept per container; more are counted, not stored, so memory stays bounded.
MAX_ITEMS = 4096


@dataclass(slots=True)
class GlobalUse:
    """One import the pickle makes (directly, or derived by a name-resolving call).

    ``called`` says whether the loader would call it (or restore state through it);
    ``via`` names the resolving callable for derived names (``builtins.getattr``).
    """

    qualified: str
    verdict: GlobalVerdict
    offset: int
    pickle_index: int
    called: bool = False
    call_offset: int | None = None
    via: str | None = None
    opcode: str = "GLOBAL"


@dataclass(eq=False, slots=True)
class Ref:
    """A global (or module, or attribute path) on the stack."""

    qualified: str
    use: GlobalUse | None  # None for a name that could not be resolved

    @property
    def allowed(self) -> bool:
        return self.use is not None and self.use.verdict.verdict is Verdict.ALLOWED


@dataclass(eq=False, slots=True)
class Obj:
    """The result of a call: an object made by ``origin`` from ``args``."""

    origin: object
    args: object = None
    state: object = None


@dataclass(eq=False, slots=True)
class Container:
    """A list, tuple, dict, set or frozenset; dict items are stored as 2-tuples."""

    kind: str
    items: list[object] = field(default_factory=list)
    dropped: int = 0

    def add(self, item: object) -> None:
        if len(self.items) < MAX_ITEMS:
            self.items.append(item)
        else:
            self.dropped += 1

    def extend(self, items: list[object]) -> None:
        room = MAX_ITEMS - len(self.items)
        if len(items) <= room:
            self.items.extend(items)
        else:
            self.items.extend(items[: max(room, 0)])
            self.dropped += len(items) - max(room, 0)

    def get(self, key: object) -> object:
        """The value for a string key of a dict container, or ``None``."""
        for item in self.items:
            if isinstance(item, tuple) and len(item) == 2 and item[0] == key:
                return item[1]
        return None

    def has(self, key: object) -> bool:
        return any(isinstance(i, tuple) and len(i) == 2 and i[0] == key for i in self.items)


@dataclass(frozen=True, slots=True)
class Persistent:
    """A persistent id: resolved by the loader's ``persistent_load`` (tensor storages)."""

    pid: object


def classify_dotted(qualified: str) -> GlobalVerdict:
    """Classify a dotted path reached dynamically (``os.system`` from ``getattr(os, ...)``)."""
    module, _, name = qualified.rpartition(".")
    if not module:
        return classify_global(name, "")
    return classify_global(module, name)


def tuple_items(value: object) -> list[object] | None:
    """The items of a tuple or list container, or ``None``."""
    if isinstance(value, Container) and value.kind in ("tuple", "list"):
        return value.items
    return None
