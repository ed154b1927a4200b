from automl_bench.cli import entry

entry()
