"""Model backends behind one protocol (`base.ModelBackend`): llama.cpp in process, OpenAI-compatible
servers, Anthropic, and the scripted fake."""
