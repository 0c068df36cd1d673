"""placeholder"""

from typing import Any

ConversionSummary: Any = None
convert_to_safetensors: Any = None
