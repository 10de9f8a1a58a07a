"""What the HTTP routes share, kept on ``app.state.bayyina`` and handed to them as a dependency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from qa.assistant import Assistant
from qa.http_queue import Gate


@dataclass
class ServerState:
    """The assistant, the generation queue, the model id ``/v1/models`` lists, where uploads are
    stored, whether DELETE may remove documents, and the chat's readers (``qa.ui.Readers``; those
    still loading in the background keep ``/ready`` false)."""

    bot: Assistant
    gate: Gate
    model_id: str
    data_dir: Path
    allow_remove: bool = False
    readers: Any = None

    @property
    def ready(self) -> bool:
        return not getattr(self.readers, "loading", False)


def _server_state(request: Request) -> ServerState:
    return request.app.state.bayyina


State = Annotated[ServerState, Depends(_server_state)]
