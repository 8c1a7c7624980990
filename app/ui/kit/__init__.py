"""The UI kit: building blocks every page uses (table model, pills, status, delegates,
segmented control, stylesheets, header and empty state). It imports no page."""
