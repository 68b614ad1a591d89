"""The deployment files in deploy/ as they ship: systemd units that systemd accepts, an nginx site that nginx
accepts, and only settings that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from yishi import settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:  # never skip silently: make browser installs them
        raise RuntimeError(f"{name} is missing: apt-get install {'systemd' if 'systemd' in name else name}")
    return found


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").iterdir()))
def test_systemd_accepts_every_unit(unit, tmp_path):
    result = subprocess.run([tool("systemd-analyze"), "verify", "--man=no", str(DEPLOY / "systemd" / unit)],
                            capture_output=True, text=True, timeout=60, cwd=DEPLOY / "systemd")
    # the only complaint allowed: the install location (/opt/yishi) does not exist on the machine running the tests
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "/opt/yishi/" not in line]
    assert problems == [], problems


def test_nginx_accepts_the_site(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=yishi.example.gov.cn", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx" / "yishi.conf").read_text(encoding="utf-8")
    site = (site.replace("/etc/ssl/yishi/fullchain.pem", str(tmp_path / "cert.pem"))
                .replace("/etc/ssl/yishi/privkey.pem", str(tmp_path / "key.pem"))
                .replace("/var/log/nginx/", f"{tmp_path}/"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                                         f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run([tool("nginx"), "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
    assert "$args" not in site and "$request " not in site and "$request_uri " not in site.split("log_format")[1][:200]


def test_the_deployment_files_name_only_settings_that_exist():
    known = {s.name for s in settings.SETTINGS}
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            named = set(re.findall(r"YISHI_[A-Z0-9_]+", path.read_text(encoding="utf-8")))
            assert named <= known, (path.name, named - known)


def test_haproxy_accepts_the_balancer():
    env = {"RASA_LB_BIND": "127.0.0.1:5005", "RASA_LB_SERVER_0": "10.0.0.11:5005", "RASA_LB_SERVER_1": "10.0.0.12:5005",
           "RASA_LB_SERVER_2": "10.0.0.13:5005", "ACTIONS_LB_BIND": "127.0.0.1:5055",
           "ACTIONS_LB_SERVER_0": "10.0.0.21:5055", "ACTIONS_LB_SERVER_1": "10.0.0.22:5055"}
    result = subprocess.run([tool("haproxy"), "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0 and "Configuration file is valid" in result.stdout + result.stderr, result.stderr


def test_nginx_lets_go_of_an_idle_connection_before_gunicorn_does():
    """A connection gunicorn closed while nginx still holds it in its pool fails the next chat message (nginx does
    not retry a POST): nginx's idle limit must be the shorter one."""
    from web_widget import gunicorn_conf

    site = (DEPLOY / "nginx" / "yishi.conf").read_text(encoding="utf-8")
    upstream = site.split("upstream yishi_web", 1)[1].split("}", 1)[0]
    nginx_idle_s = int(re.search(r"keepalive_timeout\s+(\d+)s;", upstream).group(1))
    assert nginx_idle_s < gunicorn_conf.keepalive


def test_haproxy_queues_turns_beyond_a_few_per_rasa_server_up_to_the_chat_deadline():
    """A Rasa server beyond a few turns at once only answers each later and misses its 1 s health check (then every
    server looked down after a failover): HAProxy holds the rest in its queue, no longer than the web app waits."""
    from yishi import settings

    backend = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8").split("backend rasa_servers", 1)[1].split("\nfrontend", 1)[0]
    assert 1 <= int(re.search(r"default-server .*\bmaxconn (\d+)", backend).group(1)) <= 8
    assert int(re.search(r"timeout queue (\d+)s", backend).group(1)) >= settings.number("YISHI_CHAT_TIMEOUT_S")
