"""Generative back ends for the LLM readers: the chat-model Protocol, the local model bundled as
pip packages (assembled once into the cache) and its mistral.rs runtime. The OpenAI-compatible
back end goes through LangChain and so lives in ``qa/chain.py``."""
