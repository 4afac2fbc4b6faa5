"""Facts as data: the knowledge files, their schema, loader and validator."""

from .loader import (
    ChecklistItem,
    Knowledge,
    KnowledgeError,
    Problem,
    load_knowledge,
    resolve_directory,
)

__all__ = ["ChecklistItem", "Knowledge", "KnowledgeError", "Problem", "load_knowledge", "resolve_directory"]
