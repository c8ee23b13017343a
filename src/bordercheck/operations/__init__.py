"""Operations: time-boxed deployments at border posts, their live figures and final report."""
