"""The dialogs: one engine of Telegram-shaped screens (``dialogs.engine``) with its features, built
into the application object by ``dialogs.guide.build_guide``.

``PUBLIC`` names the modules a channel (``bot/``, ``web/``, a new one) may import; everything else
(the features, the free-text reader and matcher, the catalogue tool) is reached through the guide.
"""

PUBLIC = (
    "dialogs.guide",  # the application object and its services: start here
    "dialogs.engine",  # Context, Screen, Button, callback data
    "dialogs.routes",  # Route and every route
    "dialogs.i18n",  # languages and the translation function t()
    "dialogs.commands",  # the command table every channel shares
    "dialogs.render",  # HTML → text, fitting a message, labels
    "dialogs.limits",  # Telegram's limits
    "dialogs.links",  # deep links, web links, QR codes
    "dialogs.uploads",  # the upload pre-check's limits and verdicts
    "dialogs.retention",  # the retention run's result
    "dialogs.store",  # StoreError, the store's public methods (the guide's store)
    "dialogs.console",  # the console channel itself
    "dialogs.pictures",  # the prepared copies' example pictures
)
