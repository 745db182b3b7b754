"""Pages: the page model, Markdown, HTML, diagrams, claims, the project's own pages."""
