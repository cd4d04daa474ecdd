import pytest

from libs.workflows import DOCX_TO_PDF, IMAGE_THUMBNAIL
from services.gateway.servers.paths import BadPath, normalize
from services.gateway.servers.selection import BadSelection, check_layout, select

LISTING = {"in/2024": [
    "in/2024/sales-q1/a.docx",
    "in/2024/sales-q1/notes.txt",
    "in/2024/Q2-SALES/deep/b.DOCX",
    "in/2024/hr/c.docx",
    "in/2024/top.docx",
]}


def test_keywords_pick_folders_below_the_target_case_insensitively() -> None:
    chosen = select(LISTING, ["sales"], DOCX_TO_PDF, "out")
    assert [(f.path, f.output) for f in chosen.files] == [
        ("in/2024/Q2-SALES/deep/b.DOCX", "out/2024/Q2-SALES/deep/b.pdf"),
        ("in/2024/sales-q1/a.docx", "out/2024/sales-q1/a.pdf"),
    ]
    assert chosen.skipped == 1  # notes.txt: in a selected folder, not a .docx


def test_no_keywords_take_every_folder_and_the_target_itself() -> None:
    paths = [f.path for f in select(LISTING, [], DOCX_TO_PDF, "out").files]
    assert "in/2024/top.docx" in paths and "in/2024/hr/c.docx" in paths and len(paths) == 4


def test_outputs_that_would_collide_keep_their_full_name() -> None:
    listing = {"pics": ["pics/a.jpg", "pics/a.png", "pics/b.gif"]}
    outputs = sorted(f.output for f in select(listing, [], IMAGE_THUMBNAIL, "t").files)
    assert outputs == ["t/pics/a.jpg.png", "t/pics/a.png.png", "t/pics/b.png"]


def test_output_root_may_not_overlap_a_target() -> None:
    for output in ("in/2024/out", "in", "in/2024"):
        with pytest.raises(BadSelection) as raised:
            check_layout(["in/2024"], output)
        assert raised.value.field == "output_root"
    check_layout(["in/2024"], "in/2024-out")  # a sibling whose name starts alike is fine
    with pytest.raises(BadSelection):
        check_layout(["a/x", "b/x"], "out")  # both would write out/x/...


@pytest.mark.parametrize("raw", ["/", "", "a/../b", "./a", "a\\b", "a\x00b", "x" * 1025])
def test_paths_cannot_leave_the_tenant_root(raw: str) -> None:
    with pytest.raises(BadPath):
        normalize(raw)


def test_paths_are_normalized() -> None:
    assert normalize("//path/to//folders/") == "path/to/folders"
