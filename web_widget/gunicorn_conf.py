"""gunicorn settings for the web app (`gunicorn -c python:web_widget.gunicorn_conf`).

Threaded workers: a chat request spends nearly all its time waiting on Rasa, so each worker keeps many in
flight (YISHI_WEB_THREADS, sized from the number of Rasa servers) instead of one; a slow client that
dribbles its headers holds one thread, not the worker. How many chats one worker sends to one Rasa server
at once is capped (YISHI_RASA_IN_FLIGHT, yishi/rasa_client.py), so a stuck server cannot take every thread.

An idle keep-alive connection stays open 75 s (gunicorn's default is 2 s): longer than nginx keeps one in its
upstream pool (deploy/nginx/yishi.conf, 60 s), so nginx never sends a chat message down a connection gunicorn has
just closed, which would fail that citizen's message (a POST is not retried). Idle connections wait in the
worker's poller, not in a thread.

Every worker runs the daily retention purge in a thread (yishi/retention.py; one of them does it each day).

The access log keeps the path but never the query string or the referrer: a citizen may type a phone
or ID number into a search (`/api/search?q=…`), and it must not land in a log unmasked.
"""

import threading

from yishi import retention, settings

worker_class = "gthread"
threads = settings.web_threads()
keepalive = 75  # seconds; above nginx's upstream keepalive_timeout
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


def post_worker_init(worker):
    """Each worker keeps the retention policy: one of them purges old conversations once a day."""
    threading.Thread(target=retention.run_daily, args=(worker.log,), name="retention", daemon=True).start()
