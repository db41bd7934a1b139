"""The emulated Microsoft cloud (Entra ID sign-in, Microsoft Graph, OneDrive) for tests.

Use the ``fakecloud`` pytest fixture (fixtures.py), or ``python -m tests.fakecloud serve``.
Modules: cloud.py (FakeCloud), proxy.py (CONNECT proxy + TLS), login.py (identity platform),
graph.py (Graph + download/upload hosts), state.py (data model), quickxor.py, browser.py
(the program that plays the user; BROWSER).
"""
