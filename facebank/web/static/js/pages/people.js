// The people page.
