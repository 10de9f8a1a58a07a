"""The limits every edge shares (the HTTP API, the chat, the Python API): one place each."""

MAX_QUESTION_CHARS = 2000          # a question; a longer text is a document to index
MAX_MESSAGE_CHARS = 20_000         # one chat message (an earlier answer in a history included)
MAX_HISTORY_TURNS = 50             # earlier [question, answer] turns sent with a question
MAX_MESSAGES = 2 * MAX_HISTORY_TURNS + 1   # an OpenAI request's messages: the history and the question
MAX_BODY_BYTES = 1_000_000         # a JSON request body
MAX_UPLOAD_MB = 50                 # one uploaded file
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
