"""Services: plain synchronous orchestration over store and adapters. No Qt."""
