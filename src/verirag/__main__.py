from verirag.cli import app

app(prog_name="verirag")
