"""Archives and containers around model files: ZIP (PyTorch, TorchScript, npz, Keras), TAR
and compressed streams (gzip, bzip2, xz, lzma, zlib, as joblib writes them).

Importing this package registers the scanners.
"""

from mlwarden.scanners.models.archives.compressed import CompressedScanner
from mlwarden.scanners.models.archives.members import STORAGE_CONTAINER
from mlwarden.scanners.models.archives.tarscan import TarScanner
from mlwarden.scanners.models.archives.zipscan import ZipScanner

__all__ = ["STORAGE_CONTAINER", "CompressedScanner", "TarScanner", "ZipScanner"]
