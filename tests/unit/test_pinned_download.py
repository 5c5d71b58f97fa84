"""Files out of a pinned tarball (`pinned_download`), served from a local file:// URL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from pathlib import Path

import pytest

from include.core.pinned_download import Member, fetch_members


class _RefusedError(Exception):
    pass


def _tarball(tmp_path: Path, files: dict[str, bytes]) -> tuple[str, str]:
    """A gzipped tarball of `files` on disk: its file:// URL and its sha256 integrity."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    path = tmp_path / "package.tar.gz"
    path.write_bytes(buffer.getvalue())
    digest = base64.b64encode(hashlib.sha256(buffer.getvalue()).digest()).decode()
    return path.as_uri(), f"sha256-{digest}"


def test_members_of_one_tarball_are_kept_from_one_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, integrity = _tarball(tmp_path, {"p/a.json": b'{"a": 1}', "p/b.csv": b"x,y\n1,2\n"})
    opened: list[str] = []
    real_urlopen = urllib.request.urlopen

    def counting_urlopen(address: str, **kwargs: object) -> object:
        opened.append(address)
        return real_urlopen(address, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting_urlopen)
    members = [
        Member("p/a.json", tmp_path / "out" / "a.json", json.loads),
        Member("p/b.csv", tmp_path / "out" / "b.csv", lambda content: content.decode()),
    ]
    assert fetch_members(url, integrity, members, _RefusedError) == [m.target for m in members]
    assert (tmp_path / "out" / "a.json").read_bytes() == b'{"a": 1}'
    assert (tmp_path / "out" / "b.csv").read_bytes() == b"x,y\n1,2\n"
    assert opened == [url]
    fetch_members(url, integrity, members, _RefusedError)
    assert opened == [url]  # every target there: nothing downloaded


def test_a_member_its_check_refuses_keeps_nothing(tmp_path: Path) -> None:
    url, integrity = _tarball(tmp_path, {"p/a.json": b'{"a": 1}', "p/b.json": b"not json"})
    members = [
        Member("p/a.json", tmp_path / "a.json", json.loads),
        Member("p/b.json", tmp_path / "b.json", json.loads),
    ]
    with pytest.raises(json.JSONDecodeError):
        fetch_members(url, integrity, members, _RefusedError)
    assert not (tmp_path / "a.json").exists()
    assert not (tmp_path / "b.json").exists()


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    url, _ = _tarball(tmp_path, {"p/a.json": b"{}"})
    other = "sha256-" + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(_RefusedError, match="does not hash to the pinned sha256"):
        fetch_members(
            url, other, [Member("p/a.json", tmp_path / "a.json", json.loads)], _RefusedError
        )
    assert not (tmp_path / "a.json").exists()
