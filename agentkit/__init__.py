"""agentkit: tool-using AI agents on the xAI Grok API."""
