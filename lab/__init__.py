"""The crash lab: every cause of a kernel death, reproduced through a real Jupyter server.

``nox -s lab`` (``python -m lab``) writes docs/lab/<cause>.json; the guide shows
them and the tests read them back. Modules: ``server`` (the server), ``client``
(REST and the kernel websocket), ``launch`` (how a kernel is started),
``manager`` (the exit status in the server's log), ``cgroups``, ``scenario``
(the shared steps), ``record`` (what a run looked like), ``causes`` (the scenarios).
"""
