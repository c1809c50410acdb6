"""The store's schema migrations (Alembic), shipped with the package.

:meth:`riskwarn.serving.Store.create` and ``riskwarn serve`` run them to bring a store to
the newest revision in place; nobody needs the ``alembic`` command. To change the schema,
add a revision in ``versions/`` (``down_revision`` the newest one) and a test that
upgrades a store made with the revision before.
"""
