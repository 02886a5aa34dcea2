"""File handling in one idiom, one module a job: folders written whole (:mod:`.folders`), write faults
said in one line (:mod:`.faults`), folder locks (:mod:`.locks`), atomic files and JSON (:mod:`.files`),
and a user's input files (:mod:`.inputs`).

Example:
    >>> from simsent._io import write_json, read_json                     # doctest: +SKIP
"""

from simsent._io.faults import (  # noqa: F401
    WRITE_FAULTS,
    write_fault_kind,
    write_fault_message,
    write_guard,
)
from simsent._io.files import (  # noqa: F401
    atomic_path,
    json_ready,
    read_json,
    sha256_file,
    write_json,
    write_text,
)
from simsent._io.folders import (  # noqa: F401
    TMP_PREFIX,
    remove_empty_dirs,
    remove_stale_temp_dirs,
    replace_dir,
    temp_dir,
    umask,
    usual_mode,
    usual_modes,
)
from simsent._io.inputs import (  # noqa: F401
    ENCODING_ENV,
    check_input_file,
    detect_encoding,
    open_text,
    table_dialect,
)
from simsent._io.locks import (  # noqa: F401
    folder_lock,
)
