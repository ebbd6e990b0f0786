"""`recall mcp`: the project's memory served to an agent over the Model Context Protocol.

``tools`` holds what each tool does, as plain functions of the package (no SDK import);
``server`` registers them with the official ``mcp`` SDK and runs it over stdio. Named so that
it can never shadow the SDK's own ``mcp`` package.
"""
