"""乡创通 (xiangchuang): rules as code and one-stop service for 渝人社发〔2020〕74号."""

__version__ = "0.1.0"
