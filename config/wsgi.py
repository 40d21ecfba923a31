import os

from django.core.wsgi import get_wsgi_application

from config.request_body import read_chunked_bodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Chunked request bodies are read whole before Django sees them (config/request_body.py).
application = read_chunked_bodies(get_wsgi_application())
