"""The model zoo: every classic CNN under its paper name (``from minitorch_cnn.models import
VGG16``) and, where torchvision has it, under torchvision's lower-case name with its layout."""
# --- zoo I: LeNet-5 to ResNeXt ---
from .lenet import LeNet5
from .alexnet import AlexNet, TorchvisionAlexNet, alexnet
from .alexnet_two_tower import AlexNetTwoTower
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet, googlenet_loss
from .inception import InceptionOutputs, InceptionV2, InceptionV3, inception_v3
from .nin import NiN
from .resnet import (BasicBlock, Bottleneck, ResNet, ResNet18, ResNet34, ResNet50, ResNet101,
                     ResNet152, ResNeXt50_32x4d, ResNeXt101_32x8d, resnet18, resnet34, resnet50,
                     resnet101, resnet152, resnext50_32x4d, resnext101_32x8d)
from .vgg import (VGG, VGG11, VGG11_BN, VGG13, VGG13_BN, VGG16, VGG16_BN, VGG19, VGG19_BN, vgg11,
                  vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn)
from .weights import load_weights
from .zfnet import ZFNet
# --- zoo II: DeepFace, U-Net, dense, light-weight, highway, dilated, SPP, ... ---
from .deconvnet import DeconvNet, SegNet
from .deepface import DeepFace
from .densenet import (DenseNet, DenseNet121, DenseNet161, DenseNet169, DenseNet201,
                       densenet121, densenet161, densenet169, densenet201)
from .dilated import DilatedContextNet
from .gcn import GCN
from .highway import Highway, HighwayConv2d, HighwayConvNet, HighwayNet
from .inception_v4 import InceptionResNetV2, InceptionV4
from .mobilenet import MobileNetV1, MobileNetV2, mobilenet_v2
from .shufflenet import (ShuffleNetV1, ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0,
                         shufflenet_v2_x1_5, shufflenet_v2_x2_0)
from .sppnet import SPPNet
from .squeezenet import Fire, SqueezeNet, SqueezeNet1_0, SqueezeNet1_1, squeezenet1_0, squeezenet1_1
from .unet import UNet
# --- capsules ---
from .capsnet import CapsNet, CapsNetOutput
