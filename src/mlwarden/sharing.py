"""How the files of one scan are shared among worker processes.

Files are grouped into units of work. Files of a scheduling family (one model format whose
scanners load sizeable modules of their own) are handed out together, so that each family's
modules are loaded by one worker; the early families, which need none of the archive, pickle
and text scanners, start in a worker at once while this process loads those scanners for
the workers it forks next (:func:`preload_scanners`). Other files follow in units that
shrink as the work runs out. On platforms without ``fork`` a process pool is used instead.
"""

from __future__ import annotations

import gc

from mlwarden.engine import (
    FileResult,
    Job,
    ProgressCallback,
    failed_result,
    scan_job,
)
from mlwarden.scanners import scanners_for
from mlwarden.sniff import HEAD_BYTES, Kind, sniff
from mlwarden.workers import WorkerLost, can_fork, run_forked

#: Formats whose scanners load sizeable libraries or modules of their own (a template parser,
#: an HDF5 reader, protobuf walkers), by file-name suffix. Files of one family are handed to
#: worker processes together, so that, in a scan of many small files, each family's modules
#: are loaded by one worker rather than by all of them. Only the order of work depends on
#: names; what a file is scanned as is decided by its content, as everywhere.
SCHEDULING_FAMILIES = {
    ".gguf": "gguf",
    ".keras": "keras",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".onnx": "onnx",
    ".pb": "tensorflow",
}

#: Families whose scanners need none of the archive, pickle and text scanners that most
#: scans load: their files can start in a worker before those are loaded.
EARLY_FAMILIES = frozenset({"gguf", "hdf5", "onnx", "tensorflow"})

#: Most files in one unit of work handed to a worker process.
MAX_BATCH = 64

#: Files whose heads are read, before workers start, to learn which scanners most files need.
PRELOAD_SAMPLE = 64

#: Kinds of containers whose members are, most often, pickles, text and JSON documents.
_CONTAINER_KINDS = frozenset({Kind.ZIP, Kind.TAR, Kind.COMPRESSED})


def _scan_batch(batch: list[Job]) -> list[FileResult]:
    return [scan_job(job) for job in batch]


#: What each scheduling family's files hold, by their sniffed kind.
_FAMILY_KINDS = {
    "gguf": Kind.GGUF,
    "keras": Kind.ZIP,
    "hdf5": Kind.HDF5,
    "onnx": Kind.ONNX,
    "tensorflow": Kind.TF_SAVEDMODEL,
}


def scheduling_families(work: list[Job]) -> list[str]:
    """The scheduling family of each file of ``work`` (``""`` for none).

    A file's name proposes its family and a look at its first bytes confirms it: a pickle
    named ``.h5`` needs the pickle scanners, not the HDF5 reader, so it is scheduled with
    the other files. A file that cannot be read or whose head says nothing keeps the family
    its name gives.
    """
    families: list[str] = []
    for _display, path, _limits, _options in work:
        family = SCHEDULING_FAMILIES.get(path.suffix.lower(), "")
        if family:
            try:
                with path.open("rb") as stream:
                    kind = sniff(stream.read(HEAD_BYTES), str(path))
            except OSError:
                kind = Kind.UNKNOWN
            if kind not in (_FAMILY_KINDS[family], Kind.UNKNOWN):
                family = ""
        families.append(family)
    return families


def batches(work: list[Job], jobs: int, families: list[str] | None = None) -> list[list[int]]:
    """Units of work for ``jobs`` worker processes, as indexes into ``work``.

    Files of each scheduling family come first, in units of their own (the early families
    first of all, see :func:`early_units`). The other files follow
    in units that shrink as the work runs out (each about a ``2 * jobs``-th of what is left),
    so that workers start with few hand-overs and still finish close together.
    """
    size = max(1, min(MAX_BATCH, -(-len(work) // (jobs * 4))))
    if families is None:
        families = scheduling_families(work)
    grouped: dict[str, list[int]] = {}
    for index, family in enumerate(families):
        grouped.setdefault(family, []).append(index)
    units: list[list[int]] = []
    order = sorted(grouped.items(), key=lambda f: (f[0] not in EARLY_FAMILIES, f[0] == "", f[0]))
    for family, members in order:
        if family:
            units.extend(members[start : start + size] for start in range(0, len(members), size))
            continue
        start = 0
        while start < len(members):
            step = max(1, min(MAX_BATCH, (len(members) - start) // (jobs * 2)))
            units.append(members[start : start + step])
            start += step
    return units


def scan_in_workers(
    work: list[Job], jobs: int, progress: ProgressCallback | None
) -> list[FileResult]:
    """Scan ``work`` in ``jobs`` worker processes; results in the order of ``work``."""
    done: dict[int, FileResult] = {}

    def record(index: int, result: FileResult) -> None:
        done[index] = result
        if progress:
            progress(len(done), len(work), result.path)

    families = scheduling_families(work)
    units = batches(work, jobs, families)
    if not can_fork():
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            unit_jobs = [[work[i] for i in unit] for unit in units]
            for unit, unit_results in zip(units, pool.map(_scan_batch, unit_jobs), strict=True):
                for index, result in zip(unit, unit_results, strict=True):
                    record(index, result)
    else:
        alone: list[list[int]] = []  # files of a lost unit, retried one by one
        for attempt in (units, alone):
            unit_jobs = [[work[i] for i in unit] for unit in attempt]
            outcomes = run_forked(
                unit_jobs,
                _scan_batch,
                jobs,
                early=early_units(families, attempt),
                prepare=(lambda: preload_scanners(work, families)) if attempt is units else None,
            )
            for number, outcome in outcomes:
                unit = attempt[number]
                if isinstance(outcome, list):
                    for index, result in zip(unit, outcome, strict=True):
                        record(index, result)
                elif isinstance(outcome, WorkerLost) and attempt is units and len(unit) > 1:
                    alone.extend([index] for index in unit)
                else:
                    why = outcome.reason if isinstance(outcome, WorkerLost) else outcome.error
                    for index in unit:
                        record(index, failed_result(work[index][0], work[index][1], why))
    # Reports list files in the order they were found, however the work was shared.
    return [done[index] for index in range(len(work))]


def early_units(families: list[str], units: list[list[int]]) -> int:
    """How many of the first units hold files of the early families only."""
    count = 0
    for unit in units:
        if not all(families[i] in EARLY_FAMILIES for i in unit):
            break
        count += 1
    return count


def preload_scanners(work: list[Job], families: list[str]) -> None:
    """Load, before workers are forked, the scanner modules that most of ``work`` needs.

    Modules loaded here are shared by every forked worker instead of being loaded by each of
    them. Kinds are sniffed from the heads of up to :data:`PRELOAD_SAMPLE` files spread over
    the work; files of a scheduling family are left out, since one worker scans those.
    """
    # Loading modules allocates objects that live as long as the process: cycle collections
    # in between find nothing to free (and ``run_forked`` freezes them all after this).
    collecting = gc.isenabled()
    gc.disable()
    try:
        _preload(work, families)
    finally:
        if collecting:
            gc.enable()


def _preload(work: list[Job], families: list[str]) -> None:
    common = [job for job, family in zip(work, families, strict=True) if not family]
    step = max(1, len(common) // PRELOAD_SAMPLE)
    kinds: set[Kind] = set()
    for _display, path, _limits, _options in common[::step][:PRELOAD_SAMPLE]:
        try:
            with path.open("rb") as stream:
                kinds.add(sniff(stream.read(HEAD_BYTES), str(path)))
        except OSError:
            continue
    if kinds & _CONTAINER_KINDS:
        kinds |= {Kind.PICKLE, Kind.TEXT, Kind.JSON}
    for kind in kinds:
        scanners_for(kind)
    if kinds - {Kind.UNKNOWN}:
        from mlwarden.rules import get_rule

        get_rule("MW001")  # loads the rule catalogue, which every finding names a rule of
