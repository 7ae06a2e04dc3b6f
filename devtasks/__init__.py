"""The task modules behind `python3 tasks.py ...` (tasks.py is only the bootstrap).

Standard library only, so that every task runs with a bare Python 3.11+ before `.venv` exists
(the hub task runs itself with `.venv`'s Python, which has PyYAML; `duckdb_queries` runs with
target-duckdb's, which has duckdb):

- `cli`: the command line, one subcommand per task;
- `paths`, `console`: where things are; progress lines, wrapped paragraphs, subprocesses;
- `venv`: `.venv` and constraints.txt (`setup`, `freeze`);
- `emulator`: the Coupa emulator subprocess (via `coupa_emulator.launch`) and its control API;
- `meltano`, `warehouse`, `duckdb_queries`, `marts`, `demo`: the demo pipeline, its DuckDB
  file and the queries on it, the dbt marts;
- `hub`: the Meltano Hub definitions; `orchestrator`: the multi-tenant Dagster example;
- `testing`: the suite CI runs (`test`, `test --fast`).
"""
