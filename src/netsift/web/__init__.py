"""The local dashboard (``netsift serve``): a FastAPI app with one module per page, each page an HTML route
and a JSON twin built from the same data function (see :mod:`netsift.web.pages`). Needs the ``web`` extra:
``pip install 'netsift[web]'``."""
