"""Where the SQL runs: DuckDB (embedded, out of core) and Spark (local mode or a cluster).

A source is a Parquet file or a folder of Parquet files (any depth, Hive ``key=value`` folders
become columns), as ``fibrosurvey synth --partitioned`` and the web export write them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import polars as pl

from fibrosurvey.engines.sql import DATA_VIEW

__all__ = ["DuckDBEngine", "SparkEngine", "SqlEngine", "parquet_files"]


class SqlEngine(Protocol):
    def quote(self, name: str) -> str: ...

    def query(self, sql: str) -> pl.DataFrame: ...

    def columns(self) -> list[str]: ...

    def add_columns(self, items: Sequence[str]) -> None: ...

    def quantile_sql(self, expression: str, q: float) -> str: ...

    def close(self) -> None: ...


def parquet_files(source: Path) -> list[Path]:
    """The Parquet files of ``source`` (a file, or a folder searched recursively)."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.rglob("*.parquet") if p.is_file())
        if files:
            return files
        raise ValueError(f"{source}: the folder holds no .parquet file")
    raise ValueError(f"{source}: no such Parquet file or folder")


class _Closing:
    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class DuckDBEngine(_Closing):
    """DuckDB over Parquet; ``memory_limit`` (e.g. ``"4GB"``) makes it spill to ``temp_dir``."""

    def __init__(
        self,
        source: Path,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        import duckdb

        files = parquet_files(Path(source))
        self._connection = duckdb.connect(":memory:")
        if memory_limit:
            self._connection.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self._connection.execute(f"SET threads = {int(threads)}")
        if temp_dir:
            self._connection.execute(f"SET temp_directory = '{temp_dir}'")
        # Parquet min/max statistics leave NaN out, and DuckDB's statistics propagation then
        # folds isnan() to false: NaN outcomes would count as observed (found by the tests).
        self._connection.execute("SET disabled_optimizers = 'statistics_propagation'")
        # Small per-stratum tables come back; keeping row order is not needed and costs memory.
        self._connection.execute("SET preserve_insertion_order = false")
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        hive = "true" if Path(source).is_dir() else "false"
        self._source = (
            f"read_parquet([{listing}], hive_partitioning = {hive}, union_by_name = true)"
        )
        self._connection.execute(f"CREATE VIEW {DATA_VIEW} AS SELECT * FROM {self._source}")

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def query(self, sql: str) -> pl.DataFrame:
        return pl.from_arrow(self._connection.sql(sql).to_arrow_table())  # type: ignore[return-value]

    def columns(self) -> list[str]:
        rows = self._connection.execute(f"DESCRIBE {DATA_VIEW}").fetchall()
        return [str(r[0]) for r in rows]

    def add_columns(self, items: Sequence[str]) -> None:
        """Derived columns (``expression AS name``) computed as the data view is scanned."""
        extra = "".join(f", {item}" for item in items)
        self._connection.execute(
            f"CREATE OR REPLACE VIEW {DATA_VIEW} AS SELECT *{extra} FROM {self._source}"
        )

    def quantile_sql(self, expression: str, q: float) -> str:
        # Linear interpolation between order statistics: R type 7, numpy's default.
        return f"quantile_cont({expression}, {float(q)!r})"

    def close(self) -> None:
        self._connection.close()


_SPARK_SOURCE = "fibrosurvey_source"
_spark_lock = threading.Lock()
_spark_used = False


def spark_started() -> bool:
    """True once this process has asked for a Spark session."""
    return _spark_used


def spark_session(master: str | None = None) -> Any:
    """The process's Spark session (created once: JVM start-up costs seconds).

    ``master`` defaults to ``$SPARK_MASTER`` or ``local[2]``; a cluster is ``spark://host:7077``.
    """
    from pyspark.sql import SparkSession

    global _spark_used
    with _spark_lock:
        _spark_used = True
        builder = (
            SparkSession.builder.master(master or os.environ.get("SPARK_MASTER", "local[2]"))
            .appName("fibrosurvey")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
        )
        return builder.getOrCreate()


class SparkEngine(_Closing):
    """Spark SQL over Parquet; the session is shared and stays up after :meth:`close`."""

    def __init__(self, source: Path, master: str | None = None) -> None:
        parquet_files(Path(source))  # a clear error before the JVM is involved
        self._spark = spark_session(master)
        frame = self._spark.read.parquet(str(Path(source).resolve()))
        frame.createOrReplaceTempView(_SPARK_SOURCE)
        frame.createOrReplaceTempView(DATA_VIEW)
        self._frame = frame

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def query(self, sql: str) -> pl.DataFrame:
        result = self._spark.sql(sql)
        rows = result.collect()
        names = result.columns
        return pl.DataFrame(
            {name: [row[i] for row in rows] for i, name in enumerate(names)}, strict=False
        )

    def columns(self) -> list[str]:
        return list(self._frame.columns)

    def add_columns(self, items: Sequence[str]) -> None:
        """Derived columns (``expression AS name``) computed as the data view is scanned."""
        extra = "".join(f", {item}" for item in items)
        self._frame = self._spark.sql(f"SELECT *{extra} FROM {_SPARK_SOURCE}")
        self._frame.createOrReplaceTempView(DATA_VIEW)

    def quantile_sql(self, expression: str, q: float) -> str:
        # Spark's exact percentile interpolates linearly between order statistics (R type 7).
        return f"percentile({expression}, {float(q)!r})"

    def close(self) -> None:
        self._spark.catalog.dropTempView(DATA_VIEW)
        self._spark.catalog.dropTempView(_SPARK_SOURCE)
