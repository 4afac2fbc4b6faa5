"""Facts as data: the knowledge files, their schema, loader and validator."""

from .loader import (
    ChecklistItem,
    Knowledge,
    KnowledgeError,
    Problem,
    load_knowledge,
    resolve_directory,
)

# the modules other packages may import (channels take the rest through dialogs.guide)
PUBLIC = ("knowledge", "knowledge.loader", "knowledge.overlay", "knowledge.route", "knowledge.schema")

__all__ = ["ChecklistItem", "Knowledge", "KnowledgeError", "Problem", "load_knowledge", "resolve_directory"]
