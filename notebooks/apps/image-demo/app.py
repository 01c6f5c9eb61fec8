"""The image-demo app: the talk's `CMD python /app/app.py`, with nothing to download."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    message = (HERE / "message.txt").read_text().strip()
    if argv[:1] == ["--html"]:
        text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        print(f"<!doctype html><title>image-demo</title><h1>{text}</h1>")
        return
    print(message + "".join(f" [{arg}]" for arg in argv))


if __name__ == "__main__":
    main(sys.argv[1:])
