"""The browser app for practitioners (`regiostrat chat`): Gradio on FastAPI, German UI.

- `app`: the Gradio Blocks and the FastAPI wiring (`create_app`, `build_app`)
- `render`: pure formatting of answers, sources, filters and the corpus (HTML, escaped)
- `filters`: the filter form's parsing and German validation messages
- `feedback`: ratings and comments in SQLite for staff review (`FeedbackStore`)
- `files`: serving the original documents from the corpus directories only
- `cli`: the `chat` command
"""
