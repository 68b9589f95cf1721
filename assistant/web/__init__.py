"""The browser app for practitioners (`regiostrat chat`): Gradio on FastAPI, German UI.

- `app`: assembles the FastAPI app (`create_app`): UI, file route, login, theme
- `layout`: the Gradio Blocks, its components and event wiring (`build_app`), no logic
- `handlers`: what the events do, plain Python (`ChatHandlers`)
- `backend`: state shared by all sessions: the Assistant, feedback store, file links, status
- `conversation`: one browser session's conversation (`Conversation`, `TurnRecord`)
- `api`: the `/frage` API for programs (the Answer as JSON)
- `access`: the optional login and the same check for the file route
- `render`: pure formatting of answers, sources, filters and the corpus (HTML, escaped)
- `texts`: the UI's fixed German texts (examples, help tab, login prompt)
- `theme`: the Gradio theme, stylesheet and the click-to-source script
- `filters`: the filter form's parsing and German validation messages
- `feedback`: ratings and comments in SQLite for staff review (`FeedbackStore`)
- `files`: serving the original documents from the corpus directories only
- `cli`: the `chat` command
"""
