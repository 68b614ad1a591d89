"""gunicorn settings for the web app (`gunicorn -c python:web_widget.gunicorn_conf`).

The access log keeps the path but never the query string or the referrer: a citizen may type a phone
or ID number into a search (`/api/search?q=…`), and it must not land in a log unmasked.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
