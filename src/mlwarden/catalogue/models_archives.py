"""Rules for archives and containers around model files: ZIP, TAR and compressed streams.

A model file is often a container: a PyTorch checkpoint is a ZIP of pickles and tensor
storages, a joblib file may be a compressed pickle, an ``.npz`` is a ZIP of ``.npy`` files.
Loaders and scanners read such containers differently (one trusts the central directory,
another walks local headers), and each difference is a place to hide a payload. These rules
report the structure itself; members are handed back to the engine and scanned by content.
"""

from mlwarden.findings import Severity
from mlwarden.rules import define

_APPNOTE = "https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT"
_ZIP_CRASH_ADVISORY = (
    "https://github.com/mmaitre314/picklescan/security/advisories/GHSA-7q5r-7gvp-wc82"
)
_ZIP_FLAGS_ADVISORY = (
    "https://github.com/mmaitre314/picklescan/security/advisories/GHSA-w8jq-xcqf-f792"
)
_ZIP_BOMB = "https://www.bamsoftware.com/hacks/zipbomb/"
_ZIP_SLIP = "https://security.snyk.io/research/zip-slip-vulnerability"
_TARFILE_DOCS = "https://docs.python.org/3/library/tarfile.html#tarfile-extraction-filter"
_TORCH_SERIALIZATION = "https://pytorch.org/docs/stable/notes/serialization.html"

ZIP_HEADER_MISMATCH = define(
    "MW120",
    "zip-header-mismatch",
    "ZIP local header disagrees with the central directory",
    Severity.HIGH,
    "model",
    """
    Every ZIP member is described twice: in a local file header before its data and in the
    central directory at the end of the archive. Here the two disagree about the name, the
    sizes, the compression method, the flags or the CRC (or the data inflates past the size it
    declares). Writers never produce this; it is crafted so that readers which trust different
    copies (a scanner and a loader) see different files, which has been used to slip
    malicious pickles past model scanners.
    """,
    """
    Do not load the file. Obtain it again from its publisher; if it must be used, rebuild it
    from trusted tensors (for example convert it to safetensors in an isolated environment).
    """,
    cwe=(436, 20),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0018"),
    references=("CVE-2025-1944", _ZIP_CRASH_ADVISORY, _APPNOTE),
)

ZIP_HIDDEN_MEMBER = define(
    "MW121",
    "zip-hidden-member",
    "ZIP member missing from the central directory or from the local headers",
    Severity.HIGH,
    "model",
    """
    A local file header in the archive is not listed in the central directory (or a central
    directory entry points at no local header). Readers that walk local headers in order, as
    streaming unzippers do, see a member that directory-based readers and most scanners never
    look at. mlwarden scans such hidden members by content as well.
    """,
    """
    Treat the archive as tampered with: do not load it, and obtain it again from a trusted
    source.
    """,
    cwe=(436,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0018"),
    references=(_APPNOTE, _ZIP_CRASH_ADVISORY),
)

ARCHIVE_CRC_MISMATCH = define(
    "MW122",
    "archive-crc-mismatch",
    "Archive member fails its CRC-32 check",
    Severity.HIGH,
    "model",
    """
    The CRC-32 computed over a member's data differs from the value recorded in the archive:
    the member was altered after the archive was written, or the archive is corrupt. Some
    loaders skip the check, so a modified pickle still loads. The CRC is verified for every
    member whose content is scanned as a pickle, for members up to 1 MiB (within a budget of
    64 MiB per archive), and for any member a nested scanner happened to read to its end;
    large stored tensor storages are not read through, which keeps multi-gigabyte checkpoints
    fast to scan.
    """,
    """
    Obtain the file again and compare its digest with the one its publisher gives.
    """,
    cwe=(354,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=(_APPNOTE,),
)

ARCHIVE_ENCRYPTED_MEMBER = define(
    "MW123",
    "archive-encrypted-member",
    "Encrypted archive member cannot be inspected",
    Severity.HIGH,
    "model",
    """
    The member is flagged as encrypted (ZIP general-purpose bit 0, strong encryption bit 6, or
    an encrypted central directory, bit 13). Its content cannot be inspected without the key,
    so it cannot be shown safe; some model loaders ignore the flag and read the bytes anyway.
    """,
    """
    Ask the publisher for an unencrypted copy and scan that, or decrypt it in an isolated
    environment and scan the result before loading it.
    """,
    cwe=(693,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=("CVE-2025-1945", _ZIP_FLAGS_ADVISORY, _APPNOTE),
)

ZIP_UNUSUAL_FLAGS = define(
    "MW124",
    "zip-unusual-flags",
    "ZIP member uses unusual general-purpose flags",
    Severity.HIGH,
    "model",
    """
    The member sets general-purpose flag bits that model writers never use (compressed patched
    data, enhanced deflating, reserved bits). Flipping such bits has made scanners fail on
    archives that PyTorch still loads, hiding the pickles inside.
    """,
    """
    Do not load the file; obtain it again from a trusted source.
    """,
    cwe=(436,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=("CVE-2025-1945", _ZIP_FLAGS_ADVISORY, _APPNOTE),
)

ARCHIVE_DUPLICATE_MEMBER = define(
    "MW125",
    "archive-duplicate-member",
    "Archive holds two members with the same name",
    Severity.HIGH,
    "model",
    """
    Two members share one name. Readers disagree on which one wins (the first, the last, or
    whichever an extraction writes last), so a scanner may inspect the harmless copy while a
    loader reads the other. mlwarden scans every copy.
    """,
    """
    Do not load the file; obtain it again from a trusted source.
    """,
    cwe=(436,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0018"),
    references=(_APPNOTE,),
)

ARCHIVE_PATH_TRAVERSAL = define(
    "MW126",
    "archive-path-traversal",
    "Archive member name escapes the extraction directory",
    Severity.HIGH,
    "model",
    """
    A member name is absolute, has a drive letter, or climbs out with ``..``. Extracting the
    archive (as some model tools do before loading) writes outside the target directory and
    can overwrite code or configuration ("zip slip").
    """,
    """
    Never extract the archive with a tool that follows such names. Obtain it again from a
    trusted source.
    """,
    cwe=(22,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=("CVE-2007-4559", _ZIP_SLIP, _TARFILE_DOCS),
)

ZIP_EXTRA_DATA = define(
    "MW127",
    "zip-extra-data",
    "Data outside the ZIP members",
    Severity.HIGH,
    "model",
    """
    Bytes lie before the first member, between members, or after the end of the central
    directory. ZIP readers locate the directory from the end and tolerate such bytes, so the
    file can be two formats at once (a pickle or a script followed by a ZIP): the scanner and
    the loader may each read a different one.
    """,
    """
    Do not load the file; obtain it again from a trusted source. Model writers never add data
    outside the members.
    """,
    cwe=(436,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0018"),
    references=(_APPNOTE,),
)

ZIP_OVERLAPPING_ENTRIES = define(
    "MW128",
    "zip-overlapping-entries",
    "ZIP members overlap",
    Severity.HIGH,
    "model",
    """
    Two members (or a member and the central directory) share bytes. This is how
    non-recursive zip bombs multiply a small file into terabytes, and how one member can be
    made to read differently depending on where a reader starts.
    """,
    """
    Do not extract or load the file.
    """,
    cwe=(409, 436),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0029"),
    references=(_ZIP_BOMB, _APPNOTE),
)

ARCHIVE_BOMB = define(
    "MW129",
    "archive-bomb",
    "Decompression bomb",
    Severity.HIGH,
    "model",
    """
    A member expands far beyond its compressed size (over the ``max_compression_ratio`` limit
    once it passes 16 MiB), or the archive declares more uncompressed bytes than the
    ``max_uncompressed_bytes`` limit. Loading or extracting it exhausts memory or disk. The
    check uses the declared sizes first and is repeated on the bytes actually produced while
    streaming, so lying headers do not hide a bomb.
    """,
    """
    Do not extract or load the file. If it is trusted and simply very sparse, raise
    ``max_compression_ratio`` in the [limits] section of the configuration.
    """,
    cwe=(409, 400),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0029"),
    references=(_ZIP_BOMB,),
)

TAR_LINK_MEMBER = define(
    "MW130",
    "tar-link-member",
    "TAR member is a link or a special file",
    Severity.HIGH,
    "model",
    """
    The archive holds a symbolic link, a hard link, a device or a FIFO. Extracting it can make
    later members write through the link outside the target directory, or read files of the
    host into the model directory. Links that stay inside the archive are reported at medium.
    """,
    """
    Never extract the archive with a tool that creates links; use Python's ``data`` extraction
    filter or obtain the model in a link-free format.
    """,
    cwe=(59, 22),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=("CVE-2007-4559", _TARFILE_DOCS),
)

TORCHSCRIPT_SUSPICIOUS_CODE = define(
    "MW131",
    "torchscript-suspicious-code",
    "TorchScript code member is not plausible TorchScript",
    Severity.HIGH,
    "model",
    """
    A TorchScript archive keeps its program as Python-like source under ``code/``, produced by
    the TorchScript compiler. That compiler never emits imports other than ``torch``, dynamic
    imports, ``exec``/``eval``/``compile``, or calls to ``os``, ``subprocess`` or ``builtins``.
    Such code was written by hand, for loaders that run it as Python, or to probe the
    TorchScript compiler.
    """,
    """
    Do not load the archive with ``torch.jit.load`` or ``torch.load``. Obtain the model from a
    trusted source, preferably as safetensors.
    """,
    cwe=(94, 506),
    owasp_ml=("ML06",),
    atlas=("AML.T0010", "AML.T0018"),
    references=("CVE-2025-32434", _TORCH_SERIALIZATION),
)

ARCHIVE_UNINSPECTABLE = define(
    "MW132",
    "archive-uninspectable",
    "Archive member uses a compression that cannot be inspected",
    Severity.HIGH,
    "model",
    """
    The member (or the whole stream) is compressed with a method mlwarden cannot decode here:
    an unknown ZIP method, or lz4/zstd without the optional library installed. Its content
    could not be inspected, so it cannot be shown safe.
    """,
    """
    Install the optional decompressor (``lz4``, ``zstandard``) and scan again, or decompress the
    file in an isolated environment and scan the result.
    """,
    cwe=(693,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=(_APPNOTE,),
)
