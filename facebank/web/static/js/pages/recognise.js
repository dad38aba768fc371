// The recognise page.
