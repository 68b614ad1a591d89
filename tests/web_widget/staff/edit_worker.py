"""A second web worker for tests/web_widget/staff/test_content_edit.py: the console app in its own process, on the same
sources and web store, editing the notes of some materials and marking a department checked while the test's process
does the same. Prints "ready" once its forms are open, waits for "go" on stdin, then prints {material: status} as JSON.

    python -m tests.web_widget.staff.edit_worker SOURCES WEB_DB CATALOGUE_DB FOLDER MATERIAL...
"""

from __future__ import annotations

import json
import re
import sys

from tests.web_widget.staff.conftest import PASSWORD
from tests.web_widget.staff.test_content_edit import open_form
from web_widget import create_app


def main(sources: str, web_db: str, catalogue_db: str, folder: str, *materials: str) -> None:
    app = create_app({"TESTING": True, "CATALOGUE_DB": catalogue_db, "WEB_DB": web_db, "SECRET_KEY": "test",
                      "CATALOGUE_SOURCES": sources, "CATALOGUE_STAGING_DB": f"{folder}/staging.db",
                      "JIEBA_DICT_DIR": f"{folder}/jieba", "RASA_DATA_DIR": f"{folder}/rasa"})
    client = app.test_client()
    client.post("/staff/login", data={"username": "wang.li", "password": PASSWORD})
    forms = {m: open_form(client, f"/staff/content/edit/materials/{m}") for m in materials}
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").get_data(as_text=True)).group(1)
    print("ready", flush=True)
    sys.stdin.readline()
    statuses = {}
    for m in materials:
        statuses[m] = client.post(f"/staff/content/edit/materials/{m}", data=forms[m] | {"note": f"注意{m}"}).status_code
        client.post("/staff/content/check", data={"csrf": csrf, "kind": "departments", "id": "health"})
    print(json.dumps(statuses), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
