"""The REDCap API path through PyCap, against a local server answering as REDCap's API does
(POST form fields token, content, format; CSV bodies)."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.redcap import import_records, read_data_dictionary
from fibrosurvey.redcap.api import ApiError, fetch_project
from fibrosurvey.redcap.dictionary import API_COLUMNS

DATA = Path(__file__).parents[1] / "data" / "redcap"
TOKEN = "0123456789ABCDEF0123456789ABCDEF"


def _metadata_csv() -> str:
    """The fixture dictionary as the API exports metadata: snake-case column names."""
    lines = (DATA / "symptom_study_dictionary.csv").read_text(encoding="utf-8-sig").splitlines()
    return "\n".join([",".join(API_COLUMNS), *lines[1:]]) + "\n"


class _Redcap(BaseHTTPRequestHandler):
    requests: list[dict[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        type(self).requests.append(form)
        if form.get("token") != TOKEN:
            self._answer(403, '{"error": "You do not have permissions to use the API"}')
        elif form.get("content") == "metadata" and form.get("format") == "json":
            rows = list(csv.DictReader(io.StringIO(_metadata_csv())))
            self._answer(200, json.dumps(rows), "application/json")
        elif form.get("content") == "metadata":
            self._answer(200, _metadata_csv())
        elif form.get("content") == "record":
            body = (DATA / "symptom_study_records.csv").read_text(encoding="utf-8")
            self._answer(200, body)
        else:
            self._answer(400, '{"error": "unknown content"}')

    def _answer(self, status: int, body: str, content_type: str = "text/csv") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redcap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Redcap.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


def test_fetches_raw_flat_csvs_and_imports_them_like_the_files(api_url: str) -> None:
    metadata, records = fetch_project(api_url, TOKEN)
    asked = {(form["content"], form["format"]): form for form in _Redcap.requests}
    assert ("metadata", "csv") in asked
    assert asked[("record", "csv")]["rawOrLabel"] == "raw"
    assert asked[("record", "csv")]["type"] == "flat"
    through_api = import_records(read_data_dictionary(metadata), records)
    from_files = import_records(
        read_data_dictionary(DATA / "symptom_study_dictionary.csv"),
        DATA / "symptom_study_records.csv",
    )
    assert through_api.wide.equals(from_files.wide)


def test_a_refused_token_is_an_api_error_without_the_token(api_url: str) -> None:
    with pytest.raises(ApiError, match="answered") as raised:
        fetch_project(api_url, "F" * 32)
    assert "F" * 32 not in str(raised.value)
    with pytest.raises(ApiError, match="32 characters"):
        fetch_project(api_url, "short")


def test_cli_url_and_token(api_url: str, tmp_path: Path) -> None:
    out = tmp_path / "study.parquet"
    result = CliRunner().invoke(
        main, ["redcap", "import", "--url", api_url, "--token", TOKEN, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).height == 4
