from verirag.cli import run

run()
